"""Which units and rehousing options each household of the mix may have, by the
optimiser's own hard rules, worked out once per household of the mix.

In a simulation every rule but availability depends only on the household and the unit
(availability is the simulation's, and caps and keep-apart links are not simulated), so
what a household may have is fixed when it arrives; arrivals drawn from the same
household of the mix share the answer.
"""

import numpy as np

from optimiser.perpetrator import ranked_moves
from optimiser.rules import Request, feasible
from optimiser.unit_table import BoolArray, IntArray
from simulation.world import World


class Fits:
    def __init__(self, world: World) -> None:
        self.world = world
        self._units: dict[int, BoolArray] = {}
        self._options: dict[int, BoolArray] = {}
        self._unit_matrix = np.zeros((len(world.mix), len(world.units)), dtype=np.bool_)
        self._option_matrix = np.zeros(
            (len(world.mix), len(world.rehousing_options)), dtype=np.bool_
        )
        self._filled = np.zeros(len(world.mix), dtype=np.bool_)

    def matrices(
        self, templates: IntArray, units: IntArray, options: IntArray
    ) -> tuple[BoolArray, BoolArray]:
        """Per template of ``templates`` (rows) and unit row of ``units`` (columns) whether
        the unit fits, and the same for rehousing options: for the event loop, which asks
        of everyone waiting and everything free at once. Only the cells asked for are
        copied: the mix has thousands of households and the registry thousands of units."""
        for template in np.unique(templates[~self._filled[templates]]).tolist():
            self._unit_matrix[template] = self.units(template)
            self._option_matrix[template] = self.options(template)
            self._filled[template] = True
        return (
            self._unit_matrix[np.ix_(templates, units)],
            self._option_matrix[np.ix_(templates, options)],
        )

    def units(self, template: int) -> BoolArray:
        """Per unit of the world's table: whether it meets every hard rule."""
        if template not in self._units:
            w = self.world
            request = Request.build(w.table, w.mix[template], w.protocols, w.start)
            mask = feasible(w.table, request)
            mask.flags.writeable = False
            self._units[template] = mask
        return self._units[template]

    def options(self, template: int) -> BoolArray:
        """Per rehousing option: whether moving this case's perpetrator there is eligible."""
        if template not in self._options:
            w = self.world
            mask = np.zeros(len(w.rehousing_options), dtype=np.bool_)
            moves, _ = ranked_moves(w.mix[template], w.rehousing_options, w.weights, w.start)
            for move in moves:
                mask[w.option_row[move.option_id]] = True
            mask.flags.writeable = False
            self._options[template] = mask
        return self._options[template]
