"""Looking for deadlocks: random schedules by seed, exhaustive search, parameter sweeps.

* runs.py: one run per seed (a worker's task) and the verdict names;
* executors.py: where the runs go (this process, a pool of processes that
  an interrupt stops at once, or a Dask or Ray cluster);
* seeds.py: explore_seeds(), one run per seed under the seeded-random
  scheduler; the verdicts by seed range and a trace of the first seed
  reaching each verdict;
* exhaustive.py: explore_exhaustive(), a breadth-first search over the
  scheduler's choices for the shortest schedule to deadlock, livelock or
  recursion, or a proof that none is reachable within the bounds, inside a
  memory budget;
* schedule_text.py: describe_schedule(), a schedule's states TLC-style;
* sweep.py: sweep(), a grid of scenario variants (``machine.swap=64m,128m``).

Everything here is deterministic: the same arguments give the same
results whatever the number of jobs.
"""
