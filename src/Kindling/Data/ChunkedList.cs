using System.Collections;

namespace Kindling.Data;

/// <summary>
/// An append-only list stored in chunks of 65,536 elements, so that a column of unknown length grows without the
/// doubling-and-copying of <see cref="List{T}"/> (which holds up to 3× the final size while it grows) and without one
/// huge array. The first chunk starts small and doubles, so a short column costs little.
/// </summary>
internal sealed class ChunkedList<T> : IReadOnlyList<T>
{
    private const int Shift = 16, ChunkSize = 1 << Shift, Mask = ChunkSize - 1;
    private readonly List<T[]> _chunks = [];
    private int _count;

    public int Count => _count;

    public void Add(T value)
    {
        int c = _count >> Shift, o = _count & Mask;
        if (c == _chunks.Count) _chunks.Add(new T[c == 0 ? 64 : ChunkSize]);
        else if (o == _chunks[c].Length) { var a = _chunks[c]; Array.Resize(ref a, Math.Min(ChunkSize, a.Length * 2)); _chunks[c] = a; }
        _chunks[c][o] = value;
        _count++;
    }

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The list has {_count} elements.");
            return _chunks[index >> Shift][index & Mask];
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < _count; i++) yield return _chunks[i >> Shift][i & Mask];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
