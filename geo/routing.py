"""Patrol routes for N teams with OR-Tools' routing library (straight-line metres).

Each team starts and ends at its own base and visits at most `stops_per_team` water bodies; the
highest-priority water bodies that fit (teams × stops) are all visited, and the solver keeps the
total travel short. The search is deterministic: a first solution by cheapest arc, improved by
guided local search for a fixed number of solutions (not a time limit), so the same input gives
the same plan on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SOLUTION_LIMIT = 150
TIME_LIMIT_S = 20  # only a safety net; the solution limit ends the search first


class RoutingError(ValueError):
    """A plan that cannot be made (Chinese message)."""


@dataclass
class Route:
    team: int  # 1-based
    stops: list[int]  # indices into the stop array, in visiting order
    legs_m: list[float]  # base->1st, 1st->2nd, ..., last->base

    @property
    def length_m(self) -> float:
        return float(sum(self.legs_m))


def plan_routes(stops_xy: np.ndarray, bases_xy: np.ndarray, stops_per_team: int) -> list[Route]:
    """Routes visiting every stop given (callers pass the ones they selected), at most
    `stops_per_team` per team; coordinates in metres."""
    teams = len(bases_xy)
    if teams < 1:
        raise RoutingError("巡查组数量必须至少为 1")
    if len(stops_xy) > teams * stops_per_team:
        raise RoutingError("要巡查的水域多于各组站点上限之和")
    if len(stops_xy) == 0:
        return [Route(t + 1, [], [0.0]) for t in range(teams)]
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    nodes = np.vstack([bases_xy, stops_xy])
    dist = np.rint(np.hypot(*(nodes[:, None, :] - nodes[None, :, :]).transpose(2, 0, 1)))
    dist = dist.astype(np.int64)
    manager = pywrapcp.RoutingIndexManager(len(nodes), teams, list(range(teams)),
                                           list(range(teams)))  # fmt: skip
    routing = pywrapcp.RoutingModel(manager)
    matrix = dist.tolist()

    def distance(i, j):
        return matrix[manager.IndexToNode(i)][manager.IndexToNode(j)]

    transit = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    demand = routing.RegisterUnaryTransitCallback(
        lambda i: 0 if manager.IndexToNode(i) < teams else 1
    )
    routing.AddDimensionWithVehicleCapacity(demand, 0, [stops_per_team] * teams, True, "stops")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.solution_limit = SOLUTION_LIMIT
    params.time_limit.seconds = TIME_LIMIT_S
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise RoutingError("求解器没有找到可行的巡查路线，请减少水域或增加巡查组")
    routes = []
    for team in range(teams):
        index = routing.Start(team)
        order, legs = [], []
        while not routing.IsEnd(index):
            nxt = solution.Value(routing.NextVar(index))
            legs.append(float(dist[manager.IndexToNode(index), manager.IndexToNode(nxt)]))
            node = manager.IndexToNode(nxt)
            if node >= teams:
                order.append(node - teams)
            index = nxt
        routes.append(Route(team + 1, order, legs))
    return routes


def route_length(order: list[int], stops_xy: np.ndarray, base_xy: np.ndarray) -> float:
    """Length of base -> stops in order -> base (for checks and exact comparisons)."""
    path = [base_xy, *(stops_xy[i] for i in order), base_xy]
    return float(sum(np.hypot(*(b - a)) for a, b in zip(path, path[1:], strict=False)))
