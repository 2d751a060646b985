using Microsoft.AspNetCore.Routing;
using RagPlatform.Retrieval.Grpc;

namespace Microsoft.AspNetCore.Builder;

public static class RetrievalEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>rag.v1.RetrievalService</c>. Needs <c>AddGrpc()</c> and <c>AddRagRetrieval()</c>.</summary>
    public static IEndpointRouteBuilder MapRagRetrieval(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<RetrievalGrpcService>();
        return endpoints;
    }
}
