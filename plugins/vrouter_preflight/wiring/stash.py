"""Every value the plugin keeps on pytest's config, each under one key (``config.stash[KEY]``).

>>> import pytest
>>> stash = pytest.Stash()
>>> stash[RUN_ID] = "20261203-0001"
>>> stash[RUN_ID], FLEET in stash
('20261203-0001', False)
"""

from __future__ import annotations

import pytest

from vrouter_preflight.fleet import Fleet
from vrouter_preflight.records import HostResult
from vrouter_preflight.rollout import Rollout

#: The hosts of this run and their gathered facts (main process and every xdist worker).
FLEET = pytest.StashKey[Fleet]()
#: Host -> check id -> why a destructive check was deselected.
DESTRUCTIVE_NOT_RUN = pytest.StashKey[dict[str, dict[str, str]]]()
#: Host -> check id -> why a live-only check was deselected on a snapshot host.
LIVE_ONLY_NOT_RUN = pytest.StashKey[dict[str, dict[str, str]]]()
#: The destructive stage's rollout of this process (workers and a run without xdist).
ROLLOUT = pytest.StashKey[Rollout]()
#: Host -> what the end-of-run reports show of it (:mod:`vrouter_preflight.wiring.host_results`).
HOST_RESULTS = pytest.StashKey[dict[str, HostResult]]()
#: Hosts the operator's -k, -m or --deselect left without a check (:mod:`vrouter_preflight.wiring.selection`).
UNSELECTED_HOSTS = pytest.StashKey[set[str]]()
#: The id shared by every process of one run (the rollout's state file is named by it).
RUN_ID = pytest.StashKey[str]()
