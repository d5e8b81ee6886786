"""DANet research platform: the importable library (MMEngine registry scope ``danet``).

Importing it lets any config inherit the shipped ones by ``danet::PATH``
(``danet.utils.config.register_config_package``).
"""
from danet.utils.config import register_config_package

__version__ = '0.1.0'

register_config_package()
