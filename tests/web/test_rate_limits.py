"""The per-user token bucket behind the API's 429s (the HTTP side: test_web_openai)."""
import pytest

from appliance.accounts import RateLimited, RateLimiter


def test_a_bucket_allows_a_burst_then_one_request_per_refill():
    now = [0.0]
    limits = RateLimiter({"chat": 6}, clock=lambda: now[0])  # one every 10 s
    for _ in range(6):
        limits.check("carol", "chat")
    with pytest.raises(RateLimited) as refused:
        limits.check("carol", "chat")
    assert refused.value.retry_after == 10 and "6 a minute" in str(refused.value)
    now[0] += 4
    with pytest.raises(RateLimited) as again:  # a refused request does not cost a token
        limits.check("carol", "chat")
    assert again.value.retry_after == 6
    now[0] += 6
    limits.check("carol", "chat")
    limits.check("dave", "chat")  # other users are not affected
    now[0] += 3600  # a long pause refills to the burst, not beyond
    for _ in range(6):
        limits.check("carol", "chat")
    with pytest.raises(RateLimited):
        limits.check("carol", "chat")


def test_a_zero_or_unknown_limit_never_refuses():
    limits = RateLimiter({"request": 0})
    for _ in range(1000):
        limits.check("carol", "request")
        limits.check("carol", "embeddings")
