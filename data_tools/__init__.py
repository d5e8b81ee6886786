"""Dataset tools: pack image folders into HDF5, verify, inspect, list, split, synthesise rain."""
PACKER_VERSION = '1.0'
