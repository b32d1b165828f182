"""Integrations with other libraries, each an optional extra imported on its own.

- :mod:`grok_async.contrib.ray`: chat completions over a Ray Data dataset
  (``pip install 'grok-async[ray]'``).
"""
