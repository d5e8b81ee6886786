"""DANet and its swappable components; importing this package registers them all."""
from danet.models.danet import alm, blocks, danet_net, official, reconstruction, sampling, trunk  # noqa: F401
