"""The core: what every other package builds on; it imports no other project package."""
