namespace RagPlatform.IndexerJobs.Tests.Harness;

/// <summary>
/// The system clock, which a test can stop at a known instant (to check recorded times exactly) and
/// release again. Timers stay real, so waits and polling behave as in production.
/// </summary>
internal sealed class TestClock : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _stopped;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _stopped ?? base.GetUtcNow();
        }
    }

    public void StopAt(DateTimeOffset instant)
    {
        lock (_gate)
        {
            _stopped = instant;
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _stopped = null;
        }
    }
}
