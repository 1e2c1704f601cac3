"""ganzoo's conformance checks on this package's plugins (the `began` architecture and loss): one CPU
training step per allowed pair, sample shapes, exact save/load round trip, model card, and the
`ganzoo list` row without importing torch. See ganzoo.testing."""
from ganzoo.testing import PluginConformance


class TestConformance(PluginConformance):
    distribution = "ganzoo-began"
