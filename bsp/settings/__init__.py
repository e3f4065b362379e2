"""Settings modules: ``production`` (the default, strict), ``dev`` (the demo), ``test``."""
