using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RagPlatform.Core.Text;
using RagPlatform.Ingestion.Parsing;

namespace RagPlatform.Ingestion.Chunking.Internal;

/// <summary>
/// The state of one <see cref="StructuredChunker.Chunk"/> call. Each section is first cut into
/// atoms: whole blocks where they fit the budget, otherwise their lines, sentences, words or, for
/// a single over-long word, character runs, each counted once. Atoms are then packed greedily
/// into chunks, and every finished chunk is counted exactly once more, because the tokens of a
/// concatenation are not always the sum of its parts.
/// </summary>
internal sealed class ChunkBuilder
{
    // Prose runs about four characters per token; a unit longer than this many characters per
    // token of budget is counted part by part first (see AddUnit).
    private const int LongUnitCharsPerToken = 4;

    private readonly string _text;
    private readonly ITokenCounter _counter;
    private readonly int _maxTokens;
    private readonly int _overlapTokens;
    private readonly DocumentLayout _layout;
    private readonly List<Atom> _atoms = [];
    private readonly List<int> _candidates = [];
    private readonly List<TextChunk> _chunks = [];
    private readonly int[]?[] _sentenceStarts;
    private readonly Dictionary<string, int> _gapTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _gapLookup;

    public ChunkBuilder(ParsedDocument document, ITokenCounter counter, int maxTokens, int overlapTokens)
    {
        _text = document.Text;
        _counter = counter;
        _maxTokens = maxTokens;
        _overlapTokens = overlapTokens;
        _layout = DocumentLayout.Create(document);
        _sentenceStarts = new int[]?[_layout.Blocks.Count];
        _gapLookup = _gapTokens.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private enum Level
    {
        Block,
        Line,
        Sentence,
        Word,
    }

    public List<TextChunk> Build()
    {
        foreach (var section in _layout.Sections)
        {
            PackSection(section);
        }

        return _chunks;
    }

    private void PackSection(Section section)
    {
        // A short section usually fits whole: one count then both decides and verifies its only chunk.
        var sectionStart = _layout.Blocks[section.FirstBlock].Start;
        var sectionEnd = _layout.Blocks[section.EndBlock - 1].End;
        if (sectionEnd - sectionStart <= LongUnitCharsPerToken * _maxTokens)
        {
            var text = _text.Substring(sectionStart, sectionEnd - sectionStart);
            var tokens = _counter.CountTokens(text);
            if (tokens <= _maxTokens)
            {
                Emit(sectionStart, sectionEnd, text, tokens, section.HeadingPath);
                return;
            }
        }

        _atoms.Clear();
        for (var b = section.FirstBlock; b < section.EndBlock; b++)
        {
            var block = _layout.Blocks[b];
            AddUnit(new Segment(block.Start, block.End), Level.Block, block.IsLineOriented, tokens: -1);
        }

        int previousStart = -1, previousEnd = -1;
        var i = 0;
        while (i < _atoms.Count)
        {
            var first = _atoms[i];
            int start = first.Start, overlapTokens = 0, joinTokens = 0;
            if (previousEnd >= 0 && _overlapTokens > 0)
            {
                // The overlap gives way to the chunk's own text: it shrinks until the first new atom fits beside it.
                joinTokens = GapTokens(previousEnd, first.Start);
                var limit = Math.Min(_overlapTokens, _maxTokens - first.Tokens - joinTokens);
                if (limit > 0 && FindOverlap(previousStart, previousEnd, limit, out var overlapStart, out overlapTokens))
                {
                    start = overlapStart;
                }
            }

            var ownTokens = first.Tokens;
            var estimate = start < first.Start ? overlapTokens + joinTokens + ownTokens : ownTokens;
            var next = i + 1;
            while (next < _atoms.Count)
            {
                var atom = _atoms[next];
                var added = GapTokens(_atoms[next - 1].End, atom.Start) + atom.Tokens;
                if (estimate + added > _maxTokens)
                {
                    break;
                }

                // A unit too large for one chunk starts a fresh chunk, so it is cut no more often than
                // its size demands, unless the chunk so far is small: a heading or a short lead-in
                // then shares the unit's first chunk instead of standing alone.
                if (atom.OpensSplitUnit && ownTokens >= _maxTokens / 2)
                {
                    break;
                }

                estimate += added;
                ownTokens += added;
                next++;
            }

            while (true)
            {
                var end = _atoms[next - 1].End;
                var text = _text.Substring(start, end - start);
                var tokens = start == first.Start && next == i + 1 ? first.Tokens : _counter.CountTokens(text);
                if (tokens <= _maxTokens)
                {
                    Emit(start, end, text, tokens, section.HeadingPath);
                    break;
                }

                if (next > i + 1)
                {
                    // Over budget after all: hand trailing atoms to the next chunk, as many as the excess suggests.
                    var excess = tokens - _maxTokens;
                    do
                    {
                        next--;
                        excess -= _atoms[next].Tokens + GapTokens(_atoms[next - 1].End, _atoms[next].Start);
                    }
                    while (excess > 0 && next > i + 1);
                }
                else
                {
                    // One atom fits alone by construction, so dropping the overlap always ends this loop.
                    start = first.Start;
                }
            }

            previousStart = start;
            previousEnd = _atoms[next - 1].End;
            i = next;
        }
    }

    /// <summary>
    /// Adds <paramref name="unit"/> as one atom when it fits the budget; otherwise adds the atoms of
    /// its parts at the next level that actually divides it. <paramref name="tokens"/> is the
    /// unit's count when already known, else -1.
    /// </summary>
    private void AddUnit(Segment unit, Level level, bool lineOriented, int tokens)
    {
        var partLevel = level;
        List<Segment>? parts = null;
        int[]? partTokens = null;
        var knownOver = false;
        if (tokens < 0 && unit.Length > LongUnitCharsPerToken * _maxTokens)
        {
            // A unit this long is most likely over budget and will be split anyway, so its parts
            // are counted first; the whole is then counted only if their sum says it might fit.
            // The outcome is the same as counting the whole first, one pass over the text cheaper.
            parts = Divide(unit, ref partLevel, lineOriented);
            if (parts is not null)
            {
                partTokens = new int[parts.Count];
                var estimate = 0;
                for (var k = 0; k < parts.Count; k++)
                {
                    partTokens[k] = Count(parts[k].Start, parts[k].End);
                    estimate += partTokens[k] + (k > 0 ? GapTokens(parts[k - 1].End, parts[k].Start) : 0);
                }

                knownOver = estimate > _maxTokens + (_maxTokens / 8);
            }
        }

        if (!knownOver)
        {
            if (tokens < 0)
            {
                tokens = Count(unit.Start, unit.End);
            }

            if (tokens <= _maxTokens)
            {
                _atoms.Add(new Atom(unit.Start, unit.End, tokens, OpensSplitUnit: false));
                return;
            }
        }

        var firstAtom = _atoms.Count;
        if (parts is null)
        {
            partLevel = level;
            parts = Divide(unit, ref partLevel, lineOriented);
        }

        if (parts is null)
        {
            SplitCharacters(unit.Start, unit.End);
        }
        else
        {
            for (var k = 0; k < parts.Count; k++)
            {
                AddUnit(parts[k], partLevel, lineOriented, partTokens?[k] ?? -1);
            }
        }

        _atoms[firstAtom] = _atoms[firstAtom] with { OpensSplitUnit = true };
    }

    /// <summary>
    /// The parts of <paramref name="unit"/> at the first level below <paramref name="level"/> that
    /// yields more than one (lines, sentences, words), updating <paramref name="level"/>; null for a
    /// single word, which only characters can divide.
    /// </summary>
    private List<Segment>? Divide(Segment unit, ref Level level, bool lineOriented)
    {
        var parts = new List<Segment>();
        while (true)
        {
            parts.Clear();
            switch (level)
            {
                case Level.Block when lineOriented:
                    TextSegments.Lines(_text, unit.Start, unit.End, parts);
                    level = Level.Line;
                    break;
                case Level.Block or Level.Line:
                    SentenceSplitter.Split(_text, unit.Start, unit.End, parts);
                    level = Level.Sentence;
                    break;
                case Level.Sentence:
                    TextSegments.Words(_text, unit.Start, unit.End, parts);
                    level = Level.Word;
                    break;
                default:
                    return null;
            }

            if (parts.Count > 1)
            {
                return parts;
            }
        }
    }

    /// <summary>
    /// Cuts a word longer than the budget into runs of whole grapheme clusters (so no accent is
    /// torn from its letter and no surrogate pair is split), each as long as the budget allows.
    /// The run length is searched by interpolation on token counts, alternating with bisection so
    /// that a counter far from linear still converges in logarithmic time.
    /// </summary>
    private void SplitCharacters(int start, int end)
    {
        var bounds = new List<int>();
        for (var position = start; position < end;)
        {
            position += StringInfo.GetNextTextElementLength(_text.AsSpan(position, end - position));
            bounds.Add(position);
        }

        var from = start;
        var index = 0;
        var guess = _maxTokens;
        while (index < bounds.Count)
        {
            var remaining = bounds.Count - index;
            int fits = 0, fitsTokens = 0, fails = remaining + 1;
            var length = Math.Clamp(guess, 1, remaining);
            var interpolate = true;
            while (true)
            {
                var tokens = Count(from, bounds[index + length - 1]);
                if (tokens <= _maxTokens)
                {
                    fits = length;
                    fitsTokens = tokens;
                }
                else
                {
                    fails = length;
                }

                // Within about 3% of the budget, or of the longest run that fits, is close enough.
                if (fits == remaining || fitsTokens >= _maxTokens - (_maxTokens / 32) || fails - fits <= Math.Max(1, fits / 32))
                {
                    break;
                }

                // Growth is capped so that a counter that suddenly counts little (WordPiece maps a
                // word over 100 characters to one [UNK]) cannot send a probe through megabytes.
                var upper = Math.Min(fails - 1, remaining);
                var bisection = fails > remaining ? Math.Min(remaining, fits * 2) : fits + Math.Max(1, (upper - fits) / 2);
                var proposal = interpolate && tokens > 0
                    ? (int)Math.Min(4L * length, (long)length * _maxTokens / tokens)
                    : bisection;
                length = proposal > fits && proposal <= upper ? proposal : bisection;
                interpolate = !interpolate;
            }

            if (fits == 0)
            {
                // A single grapheme over the budget (a letter under dozens of combining marks).
                SplitRunes(from, bounds[index]);
                from = bounds[index];
                index++;
                continue;
            }

            var pieceEnd = bounds[index + fits - 1];
            _atoms.Add(new Atom(from, pieceEnd, fitsTokens, OpensSplitUnit: false));
            from = pieceEnd;
            index += fits;
            guess = fits;
        }
    }

    private void SplitRunes(int start, int end)
    {
        for (var position = start; position < end;)
        {
            Rune.DecodeFromUtf16(_text.AsSpan(position, end - position), out var rune, out var length);
            var tokens = Count(position, position + length);
            if (tokens > _maxTokens)
            {
                throw new InvalidOperationException(
                    $"The token counter '{_counter.Name}' counts {tokens} tokens for the single character U+{rune.Value:X4} " +
                    $"at offset {position}, more than the chunk budget of {_maxTokens}; no chunking can fit it. Raise Chunking:MaxTokens.");
            }

            _atoms.Add(new Atom(position, position + length, tokens, OpensSplitUnit: false));
            position += length;
        }
    }

    /// <summary>
    /// The start of a run of whole trailing sentences of the previous chunk (or, when even its last
    /// sentence is too long, of whole trailing words) that counts at most <paramref name="limit"/>
    /// tokens, as long as the search finds cheaply. The run starts after the previous chunk's
    /// start, so no chunk is ever contained in its successor.
    /// </summary>
    private bool FindOverlap(int previousStart, int previousEnd, int limit, out int start, out int tokens)
    {
        _candidates.Clear();
        for (var b = _layout.BlockAt(previousEnd - 1); b >= 0 && _layout.Blocks[b].End > previousStart; b--)
        {
            var starts = SentenceStarts(b);
            for (var k = starts.Length - 1; k >= 0 && starts[k] > previousStart; k--)
            {
                if (starts[k] < previousEnd)
                {
                    _candidates.Add(starts[k]);
                }
            }
        }

        if (LongestFittingSuffix(previousEnd, limit, hintLength: 0, hintTokens: 0, out start, out tokens, out var failedTokens))
        {
            return true;
        }

        var lastSentence = _candidates.Count > 0 ? _candidates[0] : previousStart;
        var hintLength = _candidates.Count > 0 ? previousEnd - lastSentence : 0;
        _candidates.Clear();
        for (var p = previousEnd - 1; p > lastSentence; p--)
        {
            if (char.IsWhiteSpace(_text[p - 1]) && !char.IsWhiteSpace(_text[p]))
            {
                _candidates.Add(p);
            }
        }

        return LongestFittingSuffix(previousEnd, limit, hintLength, failedTokens, out start, out tokens, out _);
    }

    /// <summary>
    /// Among <see cref="_candidates"/> (starts, latest first, so suffixes grow), one whose suffix up
    /// to <paramref name="end"/> counts at most <paramref name="limit"/> tokens: the longest, or one
    /// using at least three quarters of the limit. Probes are chosen by interpolating tokens over
    /// characters, alternating with bisection, so a few exact counts usually settle it; every
    /// accepted suffix is counted exactly. <paramref name="failedTokens"/> is the count of the
    /// shortest suffix found too long (0 when none was).
    /// </summary>
    private bool LongestFittingSuffix(int end, int limit, int hintLength, int hintTokens, out int start, out int tokens, out int failedTokens)
    {
        int fits = -1, fitsTokens = 0, fails = _candidates.Count;
        failedTokens = 0;
        var probe = hintTokens > 0 ? CandidateForLength((long)hintLength * limit / hintTokens, end) : 0;
        var interpolate = true;
        while (fails - fits > 1)
        {
            probe = Math.Clamp(probe, fits + 1, fails - 1);
            var length = end - _candidates[probe];
            var count = Count(_candidates[probe], end);
            if (count <= limit)
            {
                fits = probe;
                fitsTokens = count;
                if (count * 4 >= limit * 3)
                {
                    break;
                }
            }
            else
            {
                fails = probe;
                failedTokens = count;
            }

            var guess = interpolate && count > 0 ? CandidateForLength((long)length * limit / count, end) : -1;
            probe = guess > fits && guess < fails ? guess : fits + ((fails - fits) / 2);
            interpolate = !interpolate;
        }

        start = fits >= 0 ? _candidates[fits] : -1;
        tokens = fitsTokens;
        return fits >= 0;
    }

    /// <summary>The index of the longest candidate suffix no longer than <paramref name="length"/> characters, or -1.</summary>
    private int CandidateForLength(long length, int end)
    {
        int low = 0, high = _candidates.Count - 1, found = -1;
        while (low <= high)
        {
            var mid = low + ((high - low) / 2);
            if (end - _candidates[mid] <= length)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found;
    }

    /// <summary>Where the sentences of a block start (within each line, for line-oriented blocks); computed once per block.</summary>
    private int[] SentenceStarts(int blockIndex)
    {
        if (_sentenceStarts[blockIndex] is { } cached)
        {
            return cached;
        }

        var block = _layout.Blocks[blockIndex];
        var sentences = new List<Segment>();
        if (block.IsLineOriented)
        {
            var lines = new List<Segment>();
            TextSegments.Lines(_text, block.Start, block.End, lines);
            foreach (var line in lines)
            {
                SentenceSplitter.Split(_text, line.Start, line.End, sentences);
            }
        }
        else
        {
            SentenceSplitter.Split(_text, block.Start, block.End, sentences);
        }

        return _sentenceStarts[blockIndex] = sentences.ConvertAll(s => s.Start).ToArray();
    }

    /// <summary>
    /// Tokens that joining two units adds (a newline is a token for tiktoken, nothing for WordPiece).
    /// A single space is taken as free: byte-level tokenizers merge it into the next word.
    /// </summary>
    private int GapTokens(int start, int end)
    {
        var length = end - start;
        if (length <= 0 || (length == 1 && _text[start] == ' '))
        {
            return 0;
        }

        if (_gapLookup.TryGetValue(_text.AsSpan(start, length), out var tokens))
        {
            return tokens;
        }

        var gap = _text.Substring(start, length);
        tokens = _counter.CountTokens(gap);
        _gapTokens[gap] = tokens;
        return tokens;
    }

    private int Count(int start, int end) => _counter.CountTokens(_text.Substring(start, end - start));

    private void Emit(int start, int end, string text, int tokens, IReadOnlyList<string> headingPath)
    {
        var (pageStart, pageEnd) = _layout.Pages(start, end);
        _chunks.Add(new TextChunk
        {
            Ordinal = _chunks.Count,
            Start = start,
            End = end,
            Text = text,
            TokenCount = tokens,
            PageStart = pageStart,
            PageEnd = pageEnd,
            HeadingPath = headingPath,
            ContentHash = Sha256Hex(text),
        });
    }

    private static string Sha256Hex(string text)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, buffer);
            SHA256.HashData(buffer.AsSpan(0, length), hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash);
    }

    /// <summary>A unit that fits the budget; <see cref="Tokens"/> is its exact count on its own.</summary>
    private readonly record struct Atom(int Start, int End, int Tokens, bool OpensSplitUnit);
}
