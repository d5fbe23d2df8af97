using System.Buffers.Binary;
using System.Text;

namespace Kindling.IO.Torch;

/// <summary>A <c>torch.FloatStorage</c>-like storage type named by a pickle global.</summary>
internal sealed record StorageType(string Name, int ElementSize);

/// <summary>A storage named by a persistent id: its type, its record key in the zip's data/ folder, its element count.</summary>
internal sealed record StorageRef(StorageType Type, string Key, long NumEl);

/// <summary>A strided view of a storage, as <c>torch._utils._rebuild_tensor_v2</c> describes it.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

/// <summary>A pickled dict or OrderedDict, in insertion order.</summary>
internal sealed class PickleDict
{
    public readonly List<KeyValuePair<object?, object?>> Items = [];
}

/// <summary>An allowed global (a callable or a storage type) pushed by GLOBAL / STACK_GLOBAL.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => Module + "." + Name;
}

/// <summary>
/// A strict pickle reader for PyTorch state dicts. It interprets only the opcodes that <c>torch.save(state_dict)</c>
/// emits (protocols 2 to 4), resolves only the globals a state dict needs, and builds plain data: dicts, lists, tuples,
/// strings, numbers, and descriptions of tensors and storages. Nothing in the pickle is ever called or imported; any
/// other opcode, global or call is refused with a <see cref="TorchSaveException"/> that names it and its byte offset.
/// </summary>
internal sealed class StateDictUnpickler
{
    /// <summary>Globals that may be called by REDUCE.</summary>
    private const string RebuildTensor = "torch._utils._rebuild_tensor_v2";
    private const string RebuildParameter = "torch._utils._rebuild_parameter";
    private const string OrderedDict = "collections.OrderedDict";

    /// <summary>The storage types PyTorch pickles in persistent ids, with their element sizes.</summary>
    internal static readonly Dictionary<string, StorageType> StorageTypes = new[]
    {
        new StorageType("FloatStorage", 4), new StorageType("DoubleStorage", 8), new StorageType("HalfStorage", 2),
        new StorageType("BFloat16Storage", 2), new StorageType("LongStorage", 8), new StorageType("IntStorage", 4),
        new StorageType("ShortStorage", 2), new StorageType("CharStorage", 1), new StorageType("ByteStorage", 1),
        new StorageType("BoolStorage", 1),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    private const int MaxMemo = 1 << 20;
    private const int MaxRank = 64;

    private readonly byte[] _data;
    private readonly string _source;
    private int _pos;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];

    private StateDictUnpickler(byte[] data, string source)
    {
        _data = data;
        _source = source;
    }

    /// <summary>Interprets <paramref name="pickle"/> and returns the object it describes.</summary>
    public static object? Load(byte[] pickle, string source) => new StateDictUnpickler(pickle, source).Run();

    private TorchSaveException Err(int at, string message) => new($"torch.save '{_source}': data.pkl at byte {at}: {message}");

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Err(_pos, "the pickle ends without a STOP opcode (truncated file).");
            int at = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    {
                        int v = ReadByte(at);
                        if (v is < 2 or > 5) throw Err(at, $"pickle protocol {v} is not one torch.save writes (2 to 5).");
                        break;
                    }
                case 0x95: ReadBytes(8, at); break; // FRAME: a length hint only
                case (byte)'.': // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Err(at, $"STOP with {_stack.Count} values on the stack (expected exactly 1): malformed pickle.");
                    if (_pos != _data.Length) throw Err(at, $"{_data.Length - _pos} bytes follow the STOP opcode: malformed pickle.");
                    return _stack[0];
                case (byte)'c': // GLOBAL module\nname\n
                    {
                        string module = ReadLine(at), name = ReadLine(at);
                        Push(ResolveGlobal(module, name, at));
                        break;
                    }
                case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop(at) as string; var module = Pop(at) as string;
                        if (module == null || name == null) throw Err(at, "STACK_GLOBAL expects two strings (module and name).");
                        Push(ResolveGlobal(module, name, at));
                        break;
                    }
                case (byte)'}': Push(new PickleDict()); break; // EMPTY_DICT
                case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
                case (byte)')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case (byte)'(': _marks.Add(_stack.Count); break; // MARK
                case (byte)'t': Push(PopMark(at).ToArray()); break; // TUPLE
                case 0x85: { var a = Pop(at); Push(new[] { a }); break; } // TUPLE1
                case 0x86: { var b = Pop(at); var a = Pop(at); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(at); var b = Pop(at); var a = Pop(at); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'l': Push(PopMark(at)); break; // LIST
                case (byte)'d': { var d = new PickleDict(); AddPairs(d, PopMark(at), at); Push(d); break; } // DICT
                case (byte)'X': Push(ReadString(ReadUInt32(at), at)); break; // BINUNICODE
                case 0x8c: Push(ReadString(ReadByte(at), at)); break; // SHORT_BINUNICODE
                case 0x8d: // BINUNICODE8
                    {
                        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8, at));
                        if (n > int.MaxValue) throw Err(at, $"a string of {n} bytes is longer than the pickle.");
                        Push(ReadString((long)n, at));
                        break;
                    }
                case (byte)'K': Push((long)ReadByte(at)); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, at))); break; // BININT2
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, at))); break; // BININT
                case 0x8a: // LONG1
                    {
                        int n = ReadByte(at);
                        if (n > 8) throw Err(at, $"an integer of {n} bytes does not fit in 64 bits.");
                        var b = ReadBytes(n, at);
                        long v = 0;
                        for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
                        if (n is > 0 and < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement sign
                        Push(v);
                        break;
                    }
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8, at))); break; // BINFLOAT
                case (byte)'N': Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'q': Memo(ReadByte(at), at); break; // BINPUT
                case (byte)'r': Memo(ReadUInt32(at), at); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count, at); break; // MEMOIZE
                case (byte)'h': Push(Recall(ReadByte(at), at)); break; // BINGET
                case (byte)'j': Push(Recall(ReadUInt32(at), at)); break; // LONG_BINGET
                case (byte)'0': Pop(at); break; // POP
                case (byte)'1': PopMark(at); break; // POP_MARK
                case (byte)'2': Push(Peek(at)); break; // DUP
                case (byte)'s': // SETITEM
                    {
                        var v = Pop(at); var k = Pop(at);
                        AddPairs(AsDict(Peek(at), "SETITEM", at), [k, v], at);
                        break;
                    }
                case (byte)'u': { var items = PopMark(at); AddPairs(AsDict(Peek(at), "SETITEMS", at), items, at); break; } // SETITEMS
                case (byte)'a': { var v = Pop(at); AsList(Peek(at), "APPEND", at).Add(v); break; } // APPEND
                case (byte)'e': { var items = PopMark(at); AsList(Peek(at), "APPENDS", at).AddRange(items); break; } // APPENDS
                case (byte)'Q': Push(PersistentLoad(Pop(at), at)); break; // BINPERSID
                case (byte)'R': { var args = Pop(at); var f = Pop(at); Push(Reduce(f, args, at)); break; } // REDUCE
                case (byte)'b': // BUILD: only the attribute dict PyTorch sets on a state dict (its _metadata)
                    {
                        var state = Pop(at);
                        var target = Peek(at);
                        if (target is not PickleDict || state is not PickleDict)
                            throw Err(at, $"BUILD sets state on a {Describe(target)}; a state dict only sets attributes on an OrderedDict.");
                        break;
                    }
                default:
                    throw Err(at, $"opcode {OpName(op)} is not allowed: a state dict never needs it, and Kindling does not execute pickle code.");
            }
        }
    }

    private object ResolveGlobal(string module, string name, int at)
    {
        string full = module + "." + name;
        if (full is RebuildTensor or RebuildParameter or OrderedDict) return new PickleGlobal(module, name);
        if (module == "torch" && StorageTypes.TryGetValue(name, out var st)) return st;
        string hint = module is "__main__" || module.StartsWith("torch.nn", StringComparison.Ordinal)
            ? " The file seems to hold a whole model: save model.state_dict() instead of the model."
            : "";
        throw Err(at, $"refusing global '{full}': only {RebuildTensor}, {RebuildParameter}, {OrderedDict} and torch.*Storage types are allowed in a state dict; nothing else is imported or run.{hint}");
    }

    private StorageRef PersistentLoad(object? pid, int at)
    {
        // ('storage', storage_type, key, location, numel)
        if (pid is not object?[] t || t.Length != 5 || t[0] is not "storage")
            throw Err(at, $"persistent id {Describe(pid)} is not a storage reference ('storage', type, key, location, numel).");
        if (t[1] is not StorageType type) throw Err(at, $"persistent id names storage type {Describe(t[1])}, expected a torch.*Storage global.");
        if (t[2] is not string key || key.Length == 0 || key.Length > 64 || !key.All(char.IsAsciiLetterOrDigit))
            throw Err(at, $"persistent id has storage key {Describe(t[2])}; expected a short alphanumeric record name.");
        if (t[4] is not long numel || numel < 0) throw Err(at, $"storage '{key}' has element count {Describe(t[4])}; expected a non-negative integer.");
        return new StorageRef(type, key, numel);
    }

    private object Reduce(object? f, object? args, int at)
    {
        if (f is not PickleGlobal g)
            throw Err(at, $"REDUCE calls a {Describe(f)}; only {OrderedDict}, {RebuildTensor} and {RebuildParameter} may be called.");
        if (args is not object?[] a) throw Err(at, $"REDUCE arguments for {g} are a {Describe(args)}, not a tuple.");
        switch (g.ToString())
        {
            case OrderedDict:
                if (a.Length != 0) throw Err(at, $"{OrderedDict} is called with {a.Length} arguments; a state dict builds it empty.");
                return new PickleDict();
            case RebuildParameter:
                // (data, requires_grad, backward_hooks)
                if (a.Length != 3 || a[0] is not TensorRef p) throw Err(at, $"{RebuildParameter} expects (tensor, requires_grad, backward_hooks), got {a.Length} arguments.");
                return p;
            default:
                return RebuildTensorV2(a, at);
        }
    }

    private TensorRef RebuildTensorV2(object?[] a, int at)
    {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.Length is not (6 or 7)) throw Err(at, $"{RebuildTensor} expects 6 or 7 arguments, got {a.Length}.");
        if (a[0] is not StorageRef s) throw Err(at, $"{RebuildTensor}: the storage is a {Describe(a[0])}.");
        if (a[1] is not long offset || offset < 0) throw Err(at, $"{RebuildTensor}: storage offset {Describe(a[1])} is not a non-negative integer.");
        var size = LongTuple(a[2], "size", at);
        var stride = LongTuple(a[3], "stride", at);
        if (size.Length != stride.Length) throw Err(at, $"{RebuildTensor}: size has {size.Length} dimensions but stride has {stride.Length}.");
        if (a[4] is not bool) throw Err(at, $"{RebuildTensor}: requires_grad is a {Describe(a[4])}, not a bool.");
        if (a[5] is not PickleDict hooks || hooks.Items.Count != 0) throw Err(at, $"{RebuildTensor}: backward hooks must be an empty OrderedDict.");
        if (a.Length == 7 && a[6] is not null && a[6] is not PickleDict) throw Err(at, $"{RebuildTensor}: metadata is a {Describe(a[6])}.");
        return new TensorRef(s, offset, size, stride);
    }

    private long[] LongTuple(object? v, string what, int at)
    {
        if (v is not object?[] t || t.Length > MaxRank) throw Err(at, $"{RebuildTensor}: {what} is a {Describe(v)}, expected a tuple of at most {MaxRank} integers.");
        var r = new long[t.Length];
        for (int i = 0; i < t.Length; i++)
            r[i] = t[i] is long x && x >= 0 ? x : throw Err(at, $"{RebuildTensor}: {what}[{i}] is {Describe(t[i])}, expected a non-negative integer.");
        return r;
    }

    private void AddPairs(PickleDict d, List<object?> items, int at)
    {
        if (items.Count % 2 != 0) throw Err(at, "a dict is given an odd number of keys and values.");
        for (int i = 0; i < items.Count; i += 2)
        {
            var k = items[i];
            if (k is not (string or long or bool or double or null)) throw Err(at, $"a dict key is a {Describe(k)}; state dict keys are strings.");
            int existing = d.Items.FindIndex(p => Equals(p.Key, k));
            if (existing >= 0) d.Items[existing] = new(k, items[i + 1]);
            else d.Items.Add(new(k, items[i + 1]));
        }
    }

    private PickleDict AsDict(object? v, string op, int at) => v as PickleDict ?? throw Err(at, $"{op} on a {Describe(v)}, not a dict.");
    private List<object?> AsList(object? v, string op, int at) => v as List<object?> ?? throw Err(at, $"{op} on a {Describe(v)}, not a list.");

    private void Memo(long index, int at)
    {
        if (_memo.Count >= MaxMemo && !_memo.ContainsKey(index)) throw Err(at, $"more than {MaxMemo} memo entries.");
        _memo[index] = Peek(at);
    }

    private object? Recall(long index, int at) =>
        _memo.TryGetValue(index, out var v) ? v : throw Err(at, $"memo entry {index} is read before it is written: malformed pickle.");

    private void Push(object? v) => _stack.Add(v);

    private object? Peek(int at)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Err(at, "stack underflow: malformed pickle.");
        return _stack[^1];
    }

    private object? Pop(int at)
    {
        var v = Peek(at);
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private List<object?> PopMark(int at)
    {
        if (_marks.Count == 0) throw Err(at, "an opcode needs a MARK but none is set: malformed pickle.");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    private int ReadByte(int at)
    {
        if (_pos >= _data.Length) throw Err(at, "the pickle ends inside an opcode (truncated file).");
        return _data[_pos++];
    }

    private long ReadUInt32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, at));

    private ReadOnlySpan<byte> ReadBytes(long n, int at)
    {
        if (n > _data.Length - _pos) throw Err(at, $"an opcode needs {n} more bytes but only {_data.Length - _pos} remain (truncated or corrupt file).");
        var s = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    private string ReadString(long n, int at)
    {
        try { return new UTF8Encoding(false, true).GetString(ReadBytes(n, at)); }
        catch (DecoderFallbackException) { throw Err(at, "a string is not valid UTF-8."); }
    }

    private string ReadLine(int at)
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(256, _data.Length - _pos));
        if (end < 0) throw Err(at, "GLOBAL names a module or attribute without an ending newline within 256 bytes.");
        var s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    internal static string Describe(object? v) => v switch
    {
        null => "None",
        string s => $"string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        long l => $"integer {l}",
        bool b => b ? "True" : "False",
        double d => $"float {d}",
        object?[] t => $"tuple of {t.Length}",
        List<object?> => "list",
        PickleDict => "dict",
        PickleGlobal g => $"global {g}",
        StorageType st => $"storage type torch.{st.Name}",
        StorageRef => "storage",
        TensorRef => "tensor",
        _ => v.GetType().Name,
    };

    private static string OpName(byte op)
    {
        string? name = op switch
        {
            (byte)'i' => "INST", (byte)'o' => "OBJ", 0x81 => "NEWOBJ", 0x92 => "NEWOBJ_EX", (byte)'I' => "INT", (byte)'L' => "LONG",
            (byte)'F' => "FLOAT", (byte)'S' => "STRING", (byte)'V' => "UNICODE", (byte)'P' => "PERSID", 0x82 => "EXT1", 0x83 => "EXT2",
            0x84 => "EXT4", 0x96 => "BYTEARRAY8", 0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER", 0x8e => "BINBYTES8",
            (byte)'B' => "BINBYTES", (byte)'C' => "SHORT_BINBYTES", 0x8f => "EMPTY_SET", 0x90 => "ADDITEMS", 0x91 => "FROZENSET",
            (byte)'U' => "SHORT_BINSTRING", (byte)'T' => "BINSTRING", (byte)'p' => "PUT", (byte)'g' => "GET", 0x8b => "LONG4",
            _ => null,
        };
        return name != null ? $"{name} (0x{op:x2})" : $"0x{op:x2} (unknown)";
    }
}
