"""DANet research platform: the importable library (MMEngine registry scope ``danet``).

Importing it lets any config inherit the shipped ones by ``danet::PATH``
(``danet.config_refs``).
"""
from danet.config_refs import register_config_package

__version__ = '0.1.0'

register_config_package()
