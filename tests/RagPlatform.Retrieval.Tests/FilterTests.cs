using Google.Protobuf.WellKnownTypes;
using RagPlatform.Contracts.V1;
using RagPlatform.Retrieval.Tests.Harness;
using Mode = RagPlatform.Contracts.V1.RetrievalMode;

namespace RagPlatform.Retrieval.Tests;

/// <summary>Documents about one shared word, with metadata, sources and change times to filter on.</summary>
public sealed class FilterCorpusServer : RagTestServer
{
    public const string Tenant = "filters";

    /// <summary>(key, source, lang, size, date, changed year); null metadata values are left out.</summary>
    public static readonly (string Key, string Source, string? Lang, string? Size, string? Date, int Changed)[] Docs =
    [
        ("a", "push", "en", "9", "2024-01-05", 2020),
        ("b", "push", "en", "10", "2024-02-10", 2022),
        ("c", "push", "fr", "100", "2023-12-31", 2024),
        ("d", "crm", "de", "55", "2024-01-31", 2022),
        ("e", "crm", "en", null, null, 2024),
        ("f", "crm", null, "7", "2024-01-01", 2020),
    ];

    public Dictionary<string, string> Ids { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> SourceIds { get; } = new(StringComparer.Ordinal);

    protected override bool WithEmbedder => true;

    protected override async Task SeedAsync()
    {
        foreach (var source in Docs.GroupBy(d => d.Source))
        {
            var request = Wire.Upsert(Tenant, [.. source.Select(d =>
            {
                var doc = Wire.Text(d.Key, $"Beacon report {d.Key}: the beacon was lit.", "public");
                Add(doc, "lang", d.Lang);
                Add(doc, "size", d.Size);
                Add(doc, "date", d.Date);
                doc.ChangedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(d.Changed, 6, 1, 0, 0, 0, TimeSpan.Zero));
                return doc;
            })]);
            request.Source = source.Key;
            var response = await Ingestion.UpsertDocumentsAsync(request, cancellationToken: TestContext.Current.CancellationToken);
            foreach (var r in response.Results)
            {
                Assert.Equal(DocumentOutcome.Added, r.Outcome);
                Ids[r.ExternalKey] = r.DocumentId;
            }

            SourceIds[source.Key] = (await this.GetDocumentAsync(Tenant, response.Results[0].DocumentId)).Document.SourceId;
        }
    }

    private static void Add(PushedDocument doc, string key, string? value)
    {
        if (value is not null)
        {
            doc.Metadata.Add(key, value);
        }
    }
}

/// <summary>Metadata, source, document and change-time filters hold in every mode, inside the searches.</summary>
public sealed class FilterTests(FilterCorpusServer server) : IClassFixture<FilterCorpusServer>
{
    public static TheoryData<string, string, Mode> Cases()
    {
        // (filter case, the documents that pass, mode)
        (string Case, string Expected)[] cases =
        [
            ("none", "a,b,c,d,e,f"),
            ("lang equals en", "a,b,e"),
            ("lang in fr de", "c,d"),
            ("size gte 10 (as numbers)", "b,c,d"),
            ("size gt 10 and lte 55", "d"),
            ("size lt 10", "a,f"),
            ("date in January 2024 (as text)", "a,d,f"),
            ("lang en and size gte 10", "b"),
            ("missing key never matches", string.Empty),
            ("source crm", "d,e,f"),
            ("documents a and d", "a,d"),
            ("changed after 2021", "b,c,d,e"),
            ("source push, changed after 2021, lang in en fr", "b,c"),
        ];
        var data = new TheoryData<string, string, Mode>();
        foreach (var mode in new[] { Mode.Keyword, Mode.Vector, Mode.Hybrid })
        {
            foreach (var (name, expected) in cases)
            {
                data.Add(name, expected, mode);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Only_documents_that_pass_every_filter_are_returned(string filter, string expected, Mode mode)
    {
        var request = Wire.Query(FilterCorpusServer.Tenant, "beacon", topK: 100, mode: mode);
        request.Filters = Filter(filter);

        var response = await server.RetrieveAsync(request);

        var want = expected.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(k => server.Ids[k]).Order();
        Assert.Equal(want, response.Hits.Select(h => h.DocumentId).Order());
    }

    private Filters Filter(string name)
    {
        var f = new Filters();
        switch (name)
        {
            case "none":
                break;
            case "lang equals en":
                f.Metadata.Add(new MetadataFilter { Key = "lang", Equals_ = "en" });
                break;
            case "lang in fr de":
                f.Metadata.Add(new MetadataFilter { Key = "lang", In = new StringList { Values = { "fr", "de" } } });
                break;
            case "size gte 10 (as numbers)":
                f.Metadata.Add(new MetadataFilter { Key = "size", Range = new Contracts.V1.Range { Gte = "10" } });
                break;
            case "size gt 10 and lte 55":
                f.Metadata.Add(new MetadataFilter { Key = "size", Range = new Contracts.V1.Range { Gt = "10", Lte = "55" } });
                break;
            case "size lt 10":
                f.Metadata.Add(new MetadataFilter { Key = "size", Range = new Contracts.V1.Range { Lt = "10" } });
                break;
            case "date in January 2024 (as text)":
                f.Metadata.Add(new MetadataFilter { Key = "date", Range = new Contracts.V1.Range { Gte = "2024-01-01", Lt = "2024-02-01" } });
                break;
            case "lang en and size gte 10":
                f.Metadata.Add(new MetadataFilter { Key = "lang", Equals_ = "en" });
                f.Metadata.Add(new MetadataFilter { Key = "size", Range = new Contracts.V1.Range { Gte = "10" } });
                break;
            case "missing key never matches":
                f.Metadata.Add(new MetadataFilter { Key = "colour", Range = new Contracts.V1.Range { Gte = string.Empty } });
                break;
            case "source crm":
                f.SourceIds.Add(server.SourceIds["crm"]);
                break;
            case "documents a and d":
                f.DocumentIds.Add(server.Ids["a"]);
                f.DocumentIds.Add(server.Ids["d"]);
                break;
            case "changed after 2021":
                f.ChangedAfter = Timestamp.FromDateTimeOffset(new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero));
                break;
            case "source push, changed after 2021, lang in en fr":
                f.SourceIds.Add(server.SourceIds["push"]);
                f.ChangedAfter = Timestamp.FromDateTimeOffset(new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero));
                f.Metadata.Add(new MetadataFilter { Key = "lang", In = new StringList { Values = { "en", "fr" } } });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "no such filter case");
        }

        return f;
    }
}
