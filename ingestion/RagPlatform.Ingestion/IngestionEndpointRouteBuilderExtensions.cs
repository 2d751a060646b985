using RagPlatform.Ingestion.Grpc;

using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

public static class IngestionEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>rag.v1.IngestionService</c>. Needs <c>AddGrpc()</c> and <c>AddRagIngestion()</c>.</summary>
    public static IEndpointRouteBuilder MapRagIngestion(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<IngestionGrpcService>();
        return endpoints;
    }
}
