using RagPlatform.Core.Documents;
using RagPlatform.Ingestion.Parsing;
using RagPlatform.Testing;

namespace RagPlatform.Ingestion.Tests.Parsing;

public sealed class JsonAndCsvParsingTests
{
    private readonly DocumentParser _parser = new();

    [Fact]
    public void A_json_object_gives_a_record_of_its_scalars_and_one_per_nested_field()
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.JsonSample), "station.json");

        Assert.Equal("json", document.Format);
        Assert.Equal(
            [
                "title: Station 42\nactive: true\nelevation: 1250.5\ntags: alpine, remote",
                "location.lat: 46.5\nlocation.lon: 7.9\nlocation.country: CH",
                "readings[0].t: 2024-01-01\nreadings[0].temp: -4\nreadings[1].t: 2024-01-02\nreadings[1].temp: -6",
            ],
            ParsedDocumentAssert.BlockTexts(document));
        Assert.All(document.Blocks, b => Assert.Equal(BlockKind.Record, b.Kind));
        Assert.Equal("Station 42", document.Title);
        ParsedDocumentAssert.WellFormed(document);
    }

    [Fact]
    public void A_json_array_gives_one_record_per_element()
    {
        var json = """[ {"name": "Ada", "langs": ["en", "fr"], "bio": "Line one\nline two"}, "just a string", 42, null, {} ]""";

        var document = _parser.Parse(TestDocuments.Utf8(json), "people.json");

        Assert.Equal(["name: Ada\nlangs: en, fr\nbio: Line one line two", "just a string", "42"], ParsedDocumentAssert.BlockTexts(document));
        Assert.Equal(string.Empty, document.Title);
    }

    [Fact]
    public void Json_title_falls_back_to_a_name_field()
    {
        var document = _parser.Parse(TestDocuments.Utf8("""{"name": "Widget", "price": 3}"""), "w.json");

        Assert.Equal("Widget", document.Title);
    }

    [Fact]
    public void Json_is_detected_by_content_when_the_name_has_no_extension()
    {
        Assert.Equal("json", _parser.Parse(TestDocuments.Utf8("""  {"a": 1}"""), "export").Format);
        Assert.Equal("text", _parser.Parse(TestDocuments.Utf8("""{"a": 1}"""), "notes.txt").Format);
        Assert.Equal("text", _parser.Parse(TestDocuments.Utf8("{ not json }"), "export").Format);
    }

    [Fact]
    public void Invalid_json_is_corrupt_and_the_message_gives_the_line_and_position()
    {
        var json = "{\n  \"a\": 1,\n  \"b\": ,\n}";

        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Utf8(json), "bad.json"), "'bad.json'", "not valid JSON", "line 3, byte 8");
    }

    [Fact]
    public void Json_nested_deeper_than_the_limit_is_corrupt_with_the_reason()
    {
        var json = new string('[', 100) + new string(']', 100);

        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Utf8(json), "deep.json"), "nested deeper than 64 levels");
    }

    [Fact]
    public void Csv_gives_one_record_per_row_with_column_names_and_rfc4180_quoting()
    {
        var document = _parser.Parse(TestDocuments.Utf8(TestDocuments.CsvSample), "people.csv");

        Assert.Equal("csv", document.Format);
        Assert.Equal(
            [
                "id: 1\nname: Alice\ncomment: Likes tea, not coffee",
                "id: 2\nname: Bob",
                "id: 3\nname: Carol \"CJ\" Jones\ncomment: First line second line",
            ],
            ParsedDocumentAssert.BlockTexts(document));
        Assert.All(document.Blocks, b => Assert.Equal(BlockKind.Record, b.Kind));
        Assert.Equal("id, name, comment", document.Metadata["columns"]);
        ParsedDocumentAssert.WellFormed(document);
    }

    [Theory]
    [InlineData("name;city\nAda;London\n", "data.csv", null)]
    [InlineData("name\tcity\nAda\tLondon\n", "data.csv", null)]
    [InlineData("name\tcity\nAda\tLondon\n", "data.tsv", null)]
    [InlineData("name\tcity\nAda\tLondon\n", "data", "text/tab-separated-values")]
    [InlineData("name,city\nAda,London", "data", "text/csv")]
    public void The_delimiter_is_found_from_the_header_or_the_name(string csv, string fileName, string? contentType)
    {
        var document = _parser.Parse(TestDocuments.Utf8(csv), fileName, contentType);

        Assert.Equal("csv", document.Format);
        Assert.Equal(["name: Ada\ncity: London"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Csv_rows_longer_than_the_header_and_blank_or_duplicate_headers_get_names()
    {
        var document = _parser.Parse(TestDocuments.Utf8("a,,a\n1,2,3,4\n\n"), "x.csv");

        Assert.Equal(["a: 1\ncolumn 2: 2\na (2): 3\ncolumn 4: 4"], ParsedDocumentAssert.BlockTexts(document));
    }

    [Fact]
    public void Csv_with_an_unterminated_quote_is_corrupt_and_the_message_gives_the_line()
    {
        var csv = "id,text\n1,fine\n2,\"never closed\n3,more\n";

        ParsedDocumentAssert.Rejected(FailureKind.Corrupt, () => _parser.Parse(TestDocuments.Utf8(csv), "q.csv"), "'q.csv'", "line 3", "never closed");
    }

    [Fact]
    public void Csv_with_only_a_header_is_empty()
    {
        ParsedDocumentAssert.Rejected(FailureKind.Empty, () => _parser.Parse(TestDocuments.Utf8("a,b,c\n"), "h.csv"), "no data rows");
    }
}
