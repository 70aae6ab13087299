"""Change-point models (3P heating, 3P cooling, 4P, 5P) on the mean outdoor
temperature, with balance points searched on a grid, and the choice among them."""


import numpy as np

from ..analysis import AnalysisError
from .inputs import (
    COOLING,
    GRID_POINTS,
    GRID_QUANTILES,
    HEATING,
    REFINE_POINTS,
    Series,
)
from .regression import (
    Model,
    design_matrix,
    fit,
    target_values,
)

# --- change-point search ----------------------------------------------------------------------

def _grid(temperature: np.ndarray) -> np.ndarray:
    low, high = np.quantile(temperature, GRID_QUANTILES)
    return np.linspace(low, high, GRID_POINTS) if high > low else np.array([low])


class _Grams:
    """Cross products of the base columns and every candidate hinge column, computed once
    with matrix-vector products, so the normal equations of thousands of candidates
    assemble by indexing (3 years of daily data: ~2000 5P candidates in milliseconds).

    A candidate has at most one heating and one cooling column, so of the hinge columns'
    own products only the diagonals are needed, and the heating × cooling matrix only for
    the 5P search (``cross``).
    """

    def __init__(self, base: np.ndarray, heat: np.ndarray, cool: np.ndarray, y: np.ndarray,
                 w: np.ndarray, *, cross: str):
        bw = base * w[:, None]
        wy = w * y
        self.bb = base.T @ bw
        self.by = bw.T @ y
        self.yy = float(y @ wy)
        self.xb, self.xy, self.diag = {}, {}, {}
        for key, pool in (("h", heat), ("c", cool)):
            self.xb[key] = pool @ bw                                     # (G, b)
            self.xy[key] = pool @ wy                                     # (G,)
            self.diag[key] = (pool * pool) @ w                           # (G,)
        # "full" for 5P (any heating with any cooling candidate), "diagonal" for 4P (one
        # balance point for both), "none" for 3P.
        self.hc = (heat * w) @ cool.T if cross == "full" else None
        self.hc_diag = (heat * cool) @ w if cross == "diagonal" else None

    def _cross(self, pool_a: str, idx_a: np.ndarray, pool_c: str, idx_c: np.ndarray
               ) -> np.ndarray:
        if pool_a == pool_c:
            return self.diag[pool_a][idx_a]
        i, j = (idx_a, idx_c) if pool_a == "h" else (idx_c, idx_a)
        return self.hc[i, j] if self.hc is not None else self.hc_diag[i]

    def sse(self, columns: list[tuple[str, np.ndarray]]) -> np.ndarray:
        """SSE of y on [base, pool[idx] …] for each candidate row of the index arrays."""
        b = self.bb.shape[0]
        G = len(columns[0][1])
        p = b + len(columns)
        xtx = np.empty((G, p, p))
        xty = np.empty((G, p))
        xtx[:, :b, :b] = self.bb
        xty[:, :b] = self.by
        for a, (pool_a, idx_a) in enumerate(columns, start=b):
            xtx[:, a, :b] = xtx[:, :b, a] = self.xb[pool_a][idx_a]
            xty[:, a] = self.xy[pool_a][idx_a]
            for c, (pool_c, idx_c) in enumerate(columns, start=b):
                xtx[:, a, c] = self._cross(pool_a, idx_a, pool_c, idx_c)
        # A tiny ridge keeps a degenerate candidate from failing the whole batch; its SSE
        # is then no smaller than its neighbours' and the final fit is exact.
        scale = np.einsum("gii->g", xtx)[:, None, None] / p
        beta = np.linalg.solve(xtx + 1e-10 * scale * np.eye(p), xty[..., None])[..., 0]
        return self.yy - np.einsum("gp,gp->g", beta, xty)


def _best_balance_points(kind: str, temperature: np.ndarray, base: np.ndarray, y: np.ndarray,
                         w: np.ndarray, heat_grid: np.ndarray, cool_grid: np.ndarray
                         ) -> tuple[float | None, float | None]:
    """The balance points of least SSE for a form ("h", "c", "4p" or "5p") on the grids."""
    heat = np.maximum(heat_grid[:, None] - temperature[None, :], 0.0)    # (G, n)
    cool = np.maximum(temperature[None, :] - cool_grid[:, None], 0.0)
    grams = _Grams(base, heat, cool, y, w, cross={"5p": "full", "4p": "diagonal"}.get(kind, "none"))
    if kind == "h":
        return float(heat_grid[int(np.argmin(grams.sse([("h", np.arange(len(heat_grid)))])))]), \
            None
    if kind == "c":
        return None, float(cool_grid[int(np.argmin(grams.sse([("c", np.arange(
            len(cool_grid)))])))])
    if kind == "4p":                # one balance point: the same grid for both sides
        every = np.arange(len(heat_grid))
        best = int(np.argmin(grams.sse([("h", every), ("c", every)])))
        return float(heat_grid[best]), float(cool_grid[best])
    i, j = np.meshgrid(np.arange(len(heat_grid)), np.arange(len(cool_grid)), indexing="ij")
    keep = heat_grid[i] < cool_grid[j]                        # heating below cooling
    i, j = i[keep], j[keep]
    if not len(i):
        return None, None
    best = int(np.argmin(grams.sse([("h", i), ("c", j)])))
    return float(heat_grid[i[best]]), float(cool_grid[j[best]])


def _refined(value: float, step: float, low: float, high: float) -> np.ndarray:
    return np.linspace(max(low, value - step), min(high, value + step), REFINE_POINTS)


def change_point_models(series: Series, variables: list[str], per_day: bool
                        ) -> list[Model]:
    """The best 3P heating, 3P cooling, 4P and 5P model and the model without a temperature
    term, each with the given variables as well.

    Balance points: the least-SSE candidate of a coarse grid, then of a fine grid one coarse
    step either side of it (vectorised: no Python loop over candidates).
    """
    temperature = np.asarray(series.temperature, dtype=float)
    base = design_matrix(series, variables, {}, per_day)
    y = target_values(series, per_day)
    w = series.days if per_day else np.ones(len(y))
    grid = _grid(temperature)
    low, high = float(grid[0]), float(grid[-1])
    step = (high - low) / max(len(grid) - 1, 1)
    models = [fit(series, variables, form="mean" if not variables else "linear",
                  per_day=per_day)]
    n, p_base = base.shape
    forms = []
    if n > p_base + 1:
        forms += [("3p-heating", "h", [HEATING]), ("3p-cooling", "c", [COOLING])]
    if n > p_base + 2:
        forms += [("4p", "4p", [HEATING, COOLING]), ("5p", "5p", [HEATING, COOLING])]
    for form, kind, terms in forms:
        h, c = _best_balance_points(kind, temperature, base, y, w, grid, grid)
        if h is None and c is None:
            continue
        fine_h = _refined(h, step, low, high) if h is not None else grid
        fine_c = _refined(c, step, low, high) if c is not None else grid
        if kind == "4p":
            fine_c = fine_h
        h, c = _best_balance_points(kind, temperature, base, y, w, fine_h, fine_c)
        balance_points = {k: v for k, v in (("heating", h), ("cooling", c)) if v is not None}
        if not balance_points:
            continue
        try:
            models.append(fit(series, [*terms, *variables], form=form, per_day=per_day,
                              balance_points=balance_points))
        except (AnalysisError, np.linalg.LinAlgError):
            continue
    return models


def choose_change_point_model(models: list[Model], max_p: float) -> Model:
    """The highest adjusted R² among the forms whose temperature slopes are positive and
    significant; the first model (no temperature term) when none is."""
    def significant(model: Model) -> bool:
        for i, name in enumerate(model.variables, start=1):
            if name in (HEATING, COOLING) and not (model.beta[i] > 0
                                                   and model.p_values[i] < max_p):
                return False
        return True
    usable = [m for m in models if significant(m)]
    return max(usable, key=lambda m: m.adj_r2) if usable else models[0]
