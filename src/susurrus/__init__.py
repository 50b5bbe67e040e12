"""Susurrus: local-first procedural ASMR.

Glossary (used the same everywhere):

``y``
    audio, ``numpy.float32`` of shape ``(channels, samples)``, time last.
``sr``
    sample rate in Hz (int).
``block_size``
    number of samples per streamed block.
``rng``
    an explicit :class:`numpy.random.Generator`; no global random state.

Units live in names: ``gain_db``, ``cutoff_hz``, ``attack_ms``, ``azimuth_deg``,
``target_lufs``, ``duration_s``.
"""

__version__ = "0.1.0"
