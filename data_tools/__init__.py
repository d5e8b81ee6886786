"""Dataset tools: pack image folders into HDF5, verify, inspect, list, split, synthesise rain."""
