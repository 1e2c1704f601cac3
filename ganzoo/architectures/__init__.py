"""Architecture plugins, one file per family (entry-point group ``ganzoo.architectures``)."""
