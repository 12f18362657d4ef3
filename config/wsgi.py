"""The WSGI application (gunicorn ``config.wsgi``).

Without ``DJANGO_SETTINGS_MODULE`` it takes the production settings, which refuse to start without their
secrets: a server started with a forgotten variable fails, instead of serving with DEBUG on and a public key.
``make run`` goes through ``manage.py``, which keeps the local default.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()
