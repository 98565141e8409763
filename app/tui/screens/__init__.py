"""The coach's screens: each owns its keys and behaviour and hands back its answer."""
