"""Built-in studies of the replication catalogue, in catalogue order.

Each module builds one :class:`~impactkit.replication.Study` and registers it on import. To add a
study, add a module here and import it below (the order of imports is the order in the reports).
"""
from . import lalonde, card_krueger, thornton, grosh, haughton_khandker, freireich, dampack_cdiff  # noqa: F401

__all__ = ["lalonde", "card_krueger", "thornton", "grosh", "haughton_khandker", "freireich", "dampack_cdiff"]
