"""The REST API of this app (``/api/v1/``): thin DRF views over its services and selectors."""
