namespace RagPlatform.Storage.Vectors.Internal;

/// <summary>
/// Gives each distinct string (tenant, principal) a small int, so that the scan compares ints instead of
/// strings. Ids are never reused while the index is open; a snapshot keeps only the strings still used.
/// </summary>
internal sealed class StringInterner
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];

    public int Count => _values.Count;

    public string this[int id] => _values[id];

    public int Intern(string value)
    {
        if (!_ids.TryGetValue(value, out var id))
        {
            id = _values.Count;
            _values.Add(value);
            _ids.Add(value, id);
        }

        return id;
    }

    public bool TryGetId(string value, out int id) => _ids.TryGetValue(value, out id);
}
