"""FairQueue: one turn at a time, round-robin across users, places reported, limit enforced."""
import threading

import pytest

from appliance.answering.fair_queue import FairQueue
from appliance.errors import Busy


def test_turns_go_round_robin_across_owners():
    q = FairQueue(limit=10)
    running = q.join("ann")
    a2, a3 = q.join("ann"), q.join("ann")
    b1 = q.join("ben")
    c1 = q.join("cat")
    assert q.position(running) == 0 and q.wait(running, 0)
    # ann's second question keeps its place, but her third waits behind ben's and cat's first.
    assert [q.position(t) for t in (a2, b1, c1, a3)] == [1, 2, 3, 4]
    order = []
    current = running
    for _ in range(4):
        q.release(current)
        current = next(t for t in (a2, a3, b1, c1) if q.position(t) == 0 and t not in order)
        order.append(current)
    assert order == [a2, b1, c1, a3]


def test_a_user_who_was_just_served_goes_behind_others():
    q = FairQueue(limit=10)
    first = q.join("x")
    a1, a2, b1 = q.join("ann"), q.join("ann"), q.join("ben")
    assert (q.position(a1), q.position(b1), q.position(a2)) == (1, 2, 3)
    q.release(first)
    assert q.wait(a1, 0) and (q.position(b1), q.position(a2)) == (1, 2)


def test_leaving_the_queue_moves_everyone_up_and_limit_is_enforced():
    q = FairQueue(limit=2)
    holder = q.join("a")
    w1, w2 = q.join("b"), q.join("c")
    with pytest.raises(Busy):
        q.join("d")
    with pytest.raises(Busy):
        q.check_capacity()
    q.release(w1)  # a waiter that gave up
    assert q.position(w2) == 1 and q.snapshot() == (1, 1)
    q.release(holder)
    assert q.wait(w2, 0) and q.snapshot() == (0, 1)


def test_a_waiter_wakes_when_the_turn_is_released():
    q = FairQueue()
    holder, waiter = q.join("a"), q.join("b")
    got = []
    thread = threading.Thread(target=lambda: got.append(q.wait(waiter, 5)))
    thread.start()
    assert not q.wait(waiter, 0.05)
    q.release(holder)
    thread.join(5)
    assert got == [True] and waiter.waited_ms >= 0
