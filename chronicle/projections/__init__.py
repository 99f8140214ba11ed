"""Read models projected from the log, their checkpoints, and the queries over them."""

from chronicle.projections.projector import Projector, default_projections
from chronicle.projections.readmodels import ReadModels, dump
from chronicle.projections.views import (
    HistoryEntry,
    MilestoneView,
    PublishedPostView,
    RetractedView,
    SearchHit,
    TagCount,
)

__all__ = [
    "HistoryEntry",
    "MilestoneView",
    "Projector",
    "PublishedPostView",
    "ReadModels",
    "RetractedView",
    "SearchHit",
    "TagCount",
    "default_projections",
    "dump",
]
