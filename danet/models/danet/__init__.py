"""DANet and its swappable components."""
