"""The WORM archive of conversations: object storage with Object Lock, holds mirrored."""
