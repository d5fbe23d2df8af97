namespace Kindling.Data;

/// <summary>
/// A problem with input data: a malformed or truncated file, a missing value, an unknown column or dataset name,
/// or a dataset that is not installed. The message names the file, row and column where it applies and says how to fix it.
/// </summary>
public class DataException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public DataException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the lower-level error that caused it.</summary>
    public DataException(string message, Exception innerException) : base(message, innerException) { }
}
