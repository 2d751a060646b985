using System.Text;
using RagPlatform.Core.Documents;

namespace RagPlatform.Ingestion.Parsing.Internal;

/// <summary>
/// Builds <see cref="ParsedDocument.Text"/> one block at a time. Each block is normalised as it is
/// appended (see <see cref="TextNormalizer"/>) and its offsets are taken from the buffer it was
/// written to, so <c>Text[block.Start..block.End]</c> is the block text by construction, and blocks
/// are separated by exactly one blank line.
/// </summary>
internal sealed class NormalizedTextBuilder
{
    /// <summary>
    /// 64 M characters (128 MB of string) is far above any real document (a whole bible is ~4 M) and
    /// still safe to hold in memory; more means an expansion attack (a zip or stream bomb) or a dump.
    /// </summary>
    public const int DefaultMaxCharacters = 64 * 1024 * 1024;

    private readonly List<TextBlock> _blocks = [];
    private readonly int _maxCharacters;
    private char[] _buffer;
    private int _length;

    public NormalizedTextBuilder(int capacity = 1024, int maxCharacters = DefaultMaxCharacters)
    {
        _buffer = new char[Math.Clamp(capacity, 16, maxCharacters + 2)];
        _maxCharacters = maxCharacters;
    }

    public IReadOnlyList<TextBlock> Blocks => _blocks;

    public int Length => _length;

    /// <summary>The normalised text of a block already added.</summary>
    public string TextOf(TextBlock block) => new(_buffer, block.Start, block.Length);

    /// <summary>Appends a block of prose: whitespace collapsed, lines kept (no blank lines inside), nothing added when it is blank.</summary>
    public bool Add(BlockKind kind, ReadOnlySpan<char> raw, int headingLevel = 0, int? page = null)
        => Append(kind, raw, headingLevel, page, code: false);

    /// <summary>Appends a code block: leading indentation kept (tabs as 4 spaces), at most one blank line in a row.</summary>
    public bool AddCode(ReadOnlySpan<char> raw, int? page = null)
        => Append(BlockKind.Code, raw, 0, page, code: true);

    /// <summary>The document, or <see cref="FailureKind.Empty"/> with <paramref name="emptyMessage"/> when no block has text.</summary>
    public ParsedDocument Build(FileFormat format, string? title, IReadOnlyDictionary<string, string>? metadata, int? pageCount, string emptyMessage)
    {
        if (_blocks.Count == 0)
        {
            throw new DocumentRejectedException(FailureKind.Empty, emptyMessage);
        }

        return new ParsedDocument
        {
            Format = format.ToWireName(),
            Title = TextNormalizer.NormalizeLine(title),
            Text = new string(_buffer, 0, _length),
            Blocks = _blocks.ToArray(),
            PageCount = pageCount,
            Metadata = metadata ?? new Dictionary<string, string>(StringComparer.Ordinal),
        };
    }

    private bool Append(BlockKind kind, ReadOnlySpan<char> raw, int headingLevel, int? page, bool code)
    {
        var mark = _length;

        // Normalisation never lengthens prose; in code every tab may become 4 spaces.
        EnsureCapacity((long)_length + 2 + raw.Length + (code ? 3L * raw.Count('\t') : 0));
        if (_blocks.Count > 0)
        {
            _buffer[_length++] = '\n';
            _buffer[_length++] = '\n';
        }

        var start = _length;
        var needsComposition = code ? WriteCode(raw) : WriteProse(raw);
        if (_length == start)
        {
            _length = mark;
            return false;
        }

        if (needsComposition)
        {
            Compose(start);
        }

        if (_length > _maxCharacters)
        {
            throw TooLarge();
        }

        _blocks.Add(new TextBlock(kind, start, _length, headingLevel, page));
        return true;
    }

    /// <summary>Writes prose; returns whether a character that NFC may change was written.</summary>
    private bool WriteProse(ReadOnlySpan<char> raw)
    {
        var buffer = _buffer;
        var length = _length;
        var wrote = false;
        var pendingSpace = false;
        var pendingNewline = false;
        var mayCompose = false;

        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c is > ' ' and < '\u007f')
            {
                // Fast path: visible ASCII.
            }
            else
            {
                switch (TextNormalizer.Classify(raw, ref i, ref c))
                {
                    case CharClass.Space:
                        pendingSpace = true;
                        continue;
                    case CharClass.Newline:
                        pendingNewline = true;
                        continue;
                    case CharClass.Removed:
                        continue;
                    case CharClass.SurrogatePair:
                        if (wrote)
                        {
                            if (pendingNewline)
                            {
                                buffer[length++] = '\n';
                            }
                            else if (pendingSpace)
                            {
                                buffer[length++] = ' ';
                            }
                        }

                        buffer[length++] = raw[i - 1];
                        buffer[length++] = c;
                        wrote = true;
                        pendingSpace = pendingNewline = false;
                        mayCompose = true;
                        continue;
                    default:
                        mayCompose |= c >= TextNormalizer.FirstNonNfcStable;
                        break;
                }
            }

            if (wrote)
            {
                if (pendingNewline)
                {
                    buffer[length++] = '\n';
                }
                else if (pendingSpace)
                {
                    buffer[length++] = ' ';
                }
            }

            buffer[length++] = c;
            wrote = true;
            pendingSpace = pendingNewline = false;
        }

        _length = length;
        return mayCompose;
    }

    private bool WriteCode(ReadOnlySpan<char> raw)
    {
        var buffer = _buffer;
        var length = _length;
        var wrote = false;
        var atLineStart = true;
        var indent = 0;
        var pendingSpace = false;
        var pendingNewlines = 0;
        var mayCompose = false;

        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            var pair = false;
            if (c is not (> ' ' and < '\u007f'))
            {
                var cls = TextNormalizer.Classify(raw, ref i, ref c);
                if (cls == CharClass.Space)
                {
                    if (atLineStart)
                    {
                        indent += c == '\t' ? 4 : 1;
                    }
                    else
                    {
                        pendingSpace = true;
                    }

                    continue;
                }

                if (cls == CharClass.Newline)
                {
                    pendingNewlines++;
                    atLineStart = true;
                    indent = 0;
                    pendingSpace = false;
                    continue;
                }

                if (cls == CharClass.Removed)
                {
                    continue;
                }

                pair = cls == CharClass.SurrogatePair;
                mayCompose |= pair || c >= TextNormalizer.FirstNonNfcStable;
            }

            if (wrote && pendingNewlines > 0)
            {
                // One blank line at most, so that no three newlines ever follow each other.
                buffer[length++] = '\n';
                if (pendingNewlines > 1)
                {
                    buffer[length++] = '\n';
                }
            }
            else if (wrote && pendingSpace)
            {
                buffer[length++] = ' ';
            }

            if (atLineStart)
            {
                buffer.AsSpan(length, indent).Fill(' ');
                length += indent;
            }

            if (pair)
            {
                buffer[length++] = raw[i - 1];
            }

            buffer[length++] = c;
            wrote = true;
            atLineStart = false;
            indent = 0;
            pendingSpace = false;
            pendingNewlines = 0;
        }

        _length = length;
        return mayCompose;
    }

    private void Compose(int start)
    {
        var segment = new string(_buffer, start, _length - start);
        string composed;
        try
        {
            composed = segment.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            // Only ill-formed UTF-16 makes Normalize throw, and lone surrogates were replaced while writing;
            // keep the text as it is rather than lose the document.
            return;
        }

        if (ReferenceEquals(composed, segment) || string.Equals(composed, segment, StringComparison.Ordinal))
        {
            return;
        }

        EnsureCapacity((long)start + composed.Length);
        composed.CopyTo(0, _buffer, start, composed.Length);
        _length = start + composed.Length;
    }

    private DocumentRejectedException TooLarge() => new(
        FailureKind.TooLarge,
        $"The document expands to more than {_maxCharacters / (1024 * 1024)} M characters of text, far more than its file size suggests " +
        "(a compression bomb or a data dump). Split it into smaller documents.");

    private void EnsureCapacity(long needed)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }

        if (needed > Array.MaxLength)
        {
            throw TooLarge();
        }

        var size = Math.Max(needed, Math.Min((long)_buffer.Length * 2, Array.MaxLength));
        Array.Resize(ref _buffer, (int)Math.Min(size, Array.MaxLength));
    }
}
