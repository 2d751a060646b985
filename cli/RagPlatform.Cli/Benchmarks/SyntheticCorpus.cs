using System.Globalization;
using System.Text;
using RagPlatform.Core.Security;

namespace RagPlatform.Cli.Benchmarks;

/// <summary>One generated document: what the stores need to know of it, and its chunks' ranges in its text.</summary>
internal sealed record CorpusDocument(
    int Index,
    Guid Id,
    string Tenant,
    string Title,
    AccessControlList Acl,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset ChangedAt,
    string Text,
    IReadOnlyList<(int Start, int End)> Chunks,
    bool Paged)
{
    public string ExternalKey => string.Create(CultureInfo.InvariantCulture, $"doc-{Index:D7}");

    public string Uri => string.Create(CultureInfo.InvariantCulture, $"https://bench.example/{Tenant}/doc-{Index:D7}");
}

/// <summary>
/// The shape of the benchmark's corpus, generated deterministically from a <see cref="TextPool"/>: documents of
/// 1 to 19 chunks (10 on average) of 3 to 8 sentences each (about 900 characters, 200 tokens), in two tenants,
/// with ACLs such that the benchmark's caller may see most, but not all, of its tenant. Filters therefore cut
/// into every search, as they do in production, while a caller still gets a full page of hits.
/// </summary>
internal static class SyntheticCorpus
{
    /// <summary>The tenant the benchmark queries: 90% of the documents.</summary>
    public const string Tenant = "bench";

    /// <summary>A second tenant whose chunks must never come back.</summary>
    public const string OtherTenant = "bench-other";

    /// <summary>Bump when the generated corpus changes, so that corpora built by an older version are rebuilt.</summary>
    public const int FormatVersion = 1;

    public const string CallerUser = "user:bench-user";

    public static readonly IReadOnlyList<string> CallerGroups = ["group:eng", "group:research"];

    /// <summary>Who the benchmark queries as: a user in two groups (and, like everyone, granted <c>public</c>).</summary>
    public static CallerIdentity Caller { get; } = CallerIdentity.Parse(CallerUser, CallerGroups);

    private static readonly string[] Kinds = ["article", "review", "letter", "report"];

    /// <summary>Documents until <paramref name="chunks"/> chunks are reached; the same arguments always give the same documents.</summary>
    public static IEnumerable<CorpusDocument> Generate(TextPool pool, int chunks, int seed = 17)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 1);
        var random = new Random(seed);
        var remaining = chunks;
        var text = new StringBuilder();
        var id = new byte[16];
        for (var index = 0; remaining > 0; index++)
        {
            var count = Math.Min(remaining, random.Next(1, 20));
            remaining -= count;
            text.Clear();
            var ranges = new (int Start, int End)[count];
            for (var c = 0; c < count; c++)
            {
                if (c > 0)
                {
                    text.Append("\n\n");
                }

                var start = text.Length;
                var sentences = random.Next(3, 9);
                for (var s = 0; s < sentences; s++)
                {
                    if (s > 0)
                    {
                        text.Append(' ');
                    }

                    text.Append(pool.Sentences[random.Next(pool.Sentences.Count)]);
                }

                ranges[c] = (start, text.Length);
            }

            random.NextBytes(id);
            var tenant = random.NextDouble() < 0.9 ? Tenant : OtherTenant;
            yield return new CorpusDocument(
                index,
                new Guid(id),
                tenant,
                pool.Titles[random.Next(pool.Titles.Count)],
                AccessControlList.Parse(PickAcl(random, tenant)),
                new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["year"] = (1995 + random.Next(30)).ToString(CultureInfo.InvariantCulture),
                    ["kind"] = Kinds[random.Next(Kinds.Length)],
                },
                new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(5 * 365 * 24 * 60)),
                text.ToString(),
                ranges,
                Paged: index % 3 == 0);
        }
    }

    /// <summary>In <see cref="Tenant"/>, 80% of documents are visible to <see cref="Caller"/>: public, two of its groups, or itself.</summary>
    private static string PickAcl(Random random, string tenant)
    {
        var r = random.NextDouble();
        if (tenant != Tenant)
        {
            return r < 0.7 ? "public" : "group:eng";
        }

        return r switch
        {
            < 0.40 => "public",
            < 0.65 => "group:eng",
            < 0.75 => "group:research,group:eng",
            < 0.80 => "user:bench-user",
            < 0.90 => "group:sales",
            _ => "user:someone-else,group:finance",
        };
    }
}
