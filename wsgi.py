"""WSGI entry point: gunicorn 'wsgi:app' (production) and flask --app wsgi (development)."""

from app import create_app

app = create_app()
