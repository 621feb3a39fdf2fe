from vpshealth.engine.timing import MAX_BACKOFF_SECONDS, backoff_delay, next_due


def test_healthy_host_stays_on_its_grid() -> None:
    assert next_due(100.0, 101.3, 10.0, failures=0) == 110.0


def test_slow_poll_skips_missed_slots_instead_of_bunching() -> None:
    assert next_due(100.0, 125.0, 10.0, failures=0) == 130.0
    assert next_due(100.0, 130.0, 10.0, failures=0) == 130.0


def test_first_failure_keeps_the_interval() -> None:
    assert next_due(100.0, 101.0, 10.0, failures=1) == 110.0


def test_repeated_failures_back_off_exponentially_from_the_finish() -> None:
    assert backoff_delay(10.0, 2) == 20.0
    assert backoff_delay(10.0, 3) == 40.0
    assert next_due(100.0, 105.0, 10.0, failures=3) == 145.0


def test_backoff_is_capped() -> None:
    assert backoff_delay(10.0, 30) == MAX_BACKOFF_SECONDS
    assert backoff_delay(900.0, 5) == 900.0
