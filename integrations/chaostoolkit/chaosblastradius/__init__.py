"""blastradius for Chaos Toolkit: a pre-flight control (see chaosblastradius.control)."""

__version__ = "0.1.0"
