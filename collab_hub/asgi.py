import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab_hub.settings")
application = get_asgi_application()

# Production refuses to serve accounts whose second factor is the published demo key (as wsgi.py).
from collab_hub.accounts.checks import refuse_demo_keys_in_production  # noqa: E402

refuse_demo_keys_in_production()
