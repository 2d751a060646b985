using System.Text.Json.Serialization;

namespace RagPlatform.Storage.Keyword.Internal;

/// <summary>Source-generated JSON for the stored metadata of a chunk (no reflection on the write path).</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class KeywordJson : JsonSerializerContext
{
}
