"""Serving the app to a class: serve.py (replicas behind HAProxy), Dockerfile, Kubernetes."""
