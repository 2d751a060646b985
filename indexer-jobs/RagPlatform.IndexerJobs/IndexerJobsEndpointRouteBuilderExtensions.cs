using Microsoft.AspNetCore.Routing;
using RagPlatform.IndexerJobs.Grpc;

namespace Microsoft.AspNetCore.Builder;

public static class IndexerJobsEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>rag.v1.SourcesService</c>, <c>JobsService</c> and <c>FreshnessService</c>.</summary>
    public static IEndpointRouteBuilder MapRagJobs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<SourcesGrpcService>();
        endpoints.MapGrpcService<JobsGrpcService>();
        endpoints.MapGrpcService<FreshnessGrpcService>();
        return endpoints;
    }
}
