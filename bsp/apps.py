from django.apps import AppConfig


class BspConfig(AppConfig):
    """The platform package itself: registers its system checks (``bsp.checks``)."""

    name = "bsp"
    label = "bsp"

    def ready(self) -> None:
        from bsp import checks  # noqa: F401  (registers the checks)
