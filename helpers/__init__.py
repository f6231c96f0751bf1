"""va-landscapes: valence-arousal conditioned landscape generation.

Subpackages: ``data`` (loaders, cache, procedural landscapes), ``models`` (ERU, generator,
VAE, discriminator, checkpoints), ``training`` (VAE and GAN loops), plus ``losses``,
``augment`` (ADA), ``metrics``, ``plotting``, ``widgets`` and ``cli``.
"""

__version__ = "0.1.0"
