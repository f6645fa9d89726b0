from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync_protocol.hlc import Hlc, HybridClock


@given(
    st.lists(
        st.one_of(
            st.integers(0, 3000).map(lambda d: ("tick", d)),
            st.tuples(st.just("recv"), st.integers(0, 10_000), st.integers(0, 50)),
        ),
        max_size=60,
    )
)
def test_clock_is_strictly_monotonic_whatever_the_wall_clock_does(steps):
    wall = [1_700_000_000_000]
    clock = HybridClock("node-a", wall_ms=lambda: wall[0])
    last = clock.now()
    for step in steps:
        if step[0] == "tick":
            wall[0] += step[1] - 1500  # the wall clock may jump backwards
        else:
            clock.observe(str(Hlc(wall[0] + step[1] - 5000, step[2], "node-b")))
        stamp = clock.now()
        assert stamp > last
        last = stamp


def test_observe_moves_past_a_remote_stamp():
    clock = HybridClock("a", wall_ms=lambda: 1000)
    clock.observe(str(Hlc(5000, 7, "b")))
    assert Hlc.parse(clock.now()) > Hlc(5000, 7, "b")
