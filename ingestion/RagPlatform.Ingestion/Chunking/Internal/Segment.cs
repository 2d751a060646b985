namespace RagPlatform.Ingestion.Chunking.Internal;

/// <summary>A half-open character range <c>[Start, End)</c> of the document's normalised text.</summary>
internal readonly record struct Segment(int Start, int End)
{
    public int Length => End - Start;
}
