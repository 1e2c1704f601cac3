"""Dataset plugins (entry-point group ``ganzoo.datasets``) and the batch source the engine reads."""
