using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using RagPlatform.Contracts.V1;
using RagPlatform.Core;
using RagPlatform.IndexerJobs.Freshness;

namespace RagPlatform.IndexerJobs.Grpc;

/// <summary><c>rag.v1.FreshnessService</c>.</summary>
internal sealed class FreshnessGrpcService(FreshnessReporter reporter, TimeProvider time) : FreshnessService.FreshnessServiceBase
{
    public override async Task<GetFreshnessResponse> GetFreshness(GetFreshnessRequest request, ServerCallContext context)
    {
        var window = request.Window?.ToTimeSpan() ?? TimeSpan.FromHours(24);
        if (window <= TimeSpan.Zero)
        {
            throw new RagValidationException("window", "must be positive");
        }

        if (request.Stalest is < 0 or > 1000)
        {
            throw new RagValidationException("stalest", $"must be between 0 and 1000, got {request.Stalest}");
        }

        var response = new GetFreshnessResponse { ComputedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()) };
        response.Sources.AddRange((await reporter.ReportAsync(request.Tenant, request.Source, window, request.Stalest, context.CancellationToken)).Select(AdminMapping.ToWire));
        return response;
    }
}
