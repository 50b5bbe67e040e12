"""The browser page of ``susurrus serve``: static HTML, CSS and JavaScript in ``static/``.

There is no build step and nothing is fetched from the network: ``index.html`` is
served at ``/`` and the folder ``static/`` at ``/static/``.
"""
