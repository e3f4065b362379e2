import os

from django.core.wsgi import get_wsgi_application

from bsp.startup import refuse_to_serve_when_misconfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bsp.settings.production")
application = get_wsgi_application()
# Refuse to serve a platform that would answer 500 on every page (see bsp/startup.py).
refuse_to_serve_when_misconfigured()
