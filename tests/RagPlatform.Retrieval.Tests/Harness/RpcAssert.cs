using Google.Rpc;
using Grpc.Core;

namespace RagPlatform.Retrieval.Tests.Harness;

/// <summary>Assertions on the gRPC errors a call fails with.</summary>
internal static class RpcAssert
{
    public static async Task<RpcException> FailsAsync(StatusCode expected, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == expected, $"expected {expected}, got {ex.StatusCode}: {ex.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail), "the error says nothing about what went wrong");
        return ex;
    }

    /// <summary>INVALID_ARGUMENT with a <c>google.rpc.BadRequest</c> whose field violation names <paramref name="field"/>.</summary>
    public static async Task<BadRequest.Types.FieldViolation> InvalidArgumentAsync(string field, Func<Task> call)
    {
        var ex = await FailsAsync(StatusCode.InvalidArgument, call);
        var status = ex.GetRpcStatus();
        Assert.NotNull(status);
        var badRequest = status.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        var violation = Assert.Single(badRequest.FieldViolations);
        Assert.Equal(field, violation.Field);
        Assert.False(string.IsNullOrWhiteSpace(violation.Description));
        return violation;
    }
}
