#--- ecsb parameters ---
$SnapshotUrl = ''
$Writers = $true
$TimeoutSeconds = 30
#--- end ecsb parameters ---
# ecs-backup guest script for Windows, run as System through Cloud Assistant (RunPowerShellScript).
# Prints the same `ECSB key=value` result lines as the Linux script.
#
# What it does: a VSS shadow copy of every local NTFS/ReFS volume through WMI
# (Win32_ShadowCopy.Create; no vssadmin, which cannot create shadows on client editions, and no
# diskshadow, which exists only on Server). Context `ClientAccessibleWriters` lets the VSS writers
# (SQL Server, Exchange, registry...) prepare and freeze; `ClientAccessible` is VSS without writers:
# the file system is flushed and held. The cloud snapshot group is requested right after, once.
#
# What it cannot do: hold the writers frozen while the cloud snapshot is taken (only a VSS
# hardware provider gets that callback). The shadow copies are persistent, so the cloud snapshot
# holds the live volumes crash-consistent AND the consistent shadow copies; restoring consistent
# data means reverting the restored volume to its shadow copy (Win32_ShadowCopy.Revert). Each
# volume gets its own shadow set: an application spanning volumes is consistent per volume only.
# The shadow copies are deleted from the running instance once the snapshot request is answered.

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$consistency = 'crash'
$reason = ''
$freezeMs = 'none'
$groupId = ''
$snapError = ''
$shadowIds = @()
$requested = if ($Writers) { 'application' } else { 'filesystem' }

function OneLine([string]$s, [int]$max = 400) {
    if ($null -eq $s) { return '' }
    $t = ($s -replace '[\r\n\t]+', ' ').Trim()
    if ($t.Length -gt $max) { $t = $t.Substring(0, $max) }
    return $t
}

# WMI return codes of Win32_ShadowCopy.Create, from its documentation.
$createErrors = @{
    1 = 'access denied'; 2 = 'invalid argument'; 3 = 'volume not found'; 4 = 'volume not supported'
    5 = 'unsupported shadow copy context'; 6 = 'insufficient storage'; 7 = 'volume in use'
    8 = 'maximum number of shadow copies reached'; 9 = 'another shadow copy operation is in progress'
    10 = 'provider vetoed the operation'; 11 = 'provider not registered'; 12 = 'provider failure'
    13 = 'unknown error'
}

function New-Shadow([string]$volume, [string]$context) {
    $r = Invoke-CimMethod -ClassName Win32_ShadowCopy -MethodName Create -Arguments @{
        Volume = $volume; Context = $context
    }
    return $r
}

function Send-SnapshotRequest {
    try {
        [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
    } catch { }
    $limit = [Math]::Max(1, [Math]::Min(10, [int]($TimeoutSeconds / 2)))
    $body = $null
    try {
        $resp = Invoke-WebRequest -Uri $SnapshotUrl -Method Get -UseBasicParsing -TimeoutSec $limit
        $body = $resp.Content
    } catch [System.Net.WebException] {
        $r = $_.Exception.Response
        if ($null -eq $r) {
            $script:snapError = 'NetworkError: ' + (OneLine $_.Exception.Message 300)
            return
        }
        $reader = New-Object System.IO.StreamReader($r.GetResponseStream())
        $body = $reader.ReadToEnd()
    } catch {
        $script:snapError = 'NetworkError: ' + (OneLine $_.Exception.Message 300)
        return
    }
    try { $json = $body | ConvertFrom-Json } catch { $json = $null }
    if ($null -ne $json -and $json.SnapshotGroupId) {
        $script:groupId = [string]$json.SnapshotGroupId
    } elseif ($null -ne $json -and $json.Code) {
        $script:snapError = (OneLine ([string]$json.Code) 100) + ': ' + (OneLine ([string]$json.Message) 300)
    } else {
        $script:snapError = 'InvalidResponse: ' + (OneLine ([string]$body) 300)
    }
}

function Write-Result {
    Write-Output "ECSB consistency=$consistency"
    Write-Output ('ECSB reason=' + (OneLine $reason 600))
    Write-Output "ECSB freeze_ms=$freezeMs"
    Write-Output 'ECSB pre_exit=none'
    Write-Output 'ECSB post_exit=none'
    if ($groupId -ne '') {
        Write-Output "ECSB snapshot_group_id=$groupId"
    } else {
        if ($snapError -eq '') { $script:snapError = 'Unknown: no snapshot request was made' }
        Write-Output ('ECSB snapshot_error=' + (OneLine $snapError 500))
    }
}

try {
    if ([string]::IsNullOrEmpty($SnapshotUrl)) {
        $snapError = 'NoSnapshotRequest: the script carries no snapshot request'
    }
    # Local fixed volumes with a file system VSS supports; network shares and removable media are skipped.
    $volumes = @(Get-CimInstance -ClassName Win32_Volume -Filter 'DriveType = 3' |
        Where-Object { $_.FileSystem -in @('NTFS', 'ReFS') -and $_.DeviceID })
    $context = if ($Writers) { 'ClientAccessibleWriters' } else { 'ClientAccessible' }
    $vssOk = $volumes.Count -gt 0
    if (-not $vssOk) { $reason = 'no local NTFS or ReFS volume to shadow' }
    $watch = [Diagnostics.Stopwatch]::StartNew()
    foreach ($v in $volumes) {
        if (-not $vssOk) { break }
        $r = New-Shadow $v.DeviceID $context
        if ($r.ReturnValue -eq 5 -and $Writers) {
            # Older Windows builds know only the writer-less context: still file-system consistent.
            $context = 'ClientAccessible'
            $requestedNote = 'VSS writers context not supported on this Windows version'
            $r = New-Shadow $v.DeviceID $context
        }
        if ($r.ReturnValue -ne 0) {
            $vssOk = $false
            $code = [int]$r.ReturnValue
            $reason = "VSS shadow copy of $($v.Name) failed: $($createErrors[$code]) ($code)"
            break
        }
        $shadowIds += [string]$r.ShadowID
        if ($watch.Elapsed.TotalSeconds -gt $TimeoutSeconds) {
            $vssOk = $false
            $reason = "VSS shadow copies took longer than $TimeoutSeconds s"
            break
        }
    }
    $watch.Stop()
    if ($snapError -eq '') { Send-SnapshotRequest }
    if ($vssOk) {
        $freezeMs = [int]$watch.Elapsed.TotalMilliseconds
        if ($context -eq 'ClientAccessibleWriters') {
            $consistency = 'application'
        } else {
            $consistency = 'filesystem'
            if ($Writers) { $reason = $requestedNote }
        }
    } else {
        $consistency = 'crash'
    }
} catch {
    $consistency = 'crash'
    $reason = 'guest script failed: ' + (OneLine $_.Exception.Message 300)
    if ($snapError -eq '' -and $groupId -eq '') { $snapError = 'Interrupted: ' + (OneLine $_.Exception.Message 300) }
} finally {
    foreach ($id in $shadowIds) {
        try {
            Get-CimInstance -ClassName Win32_ShadowCopy -Filter "ID = '$id'" | Remove-CimInstance
        } catch {
            Write-Output ('[ecsb] could not delete shadow copy ' + $id + ': ' + (OneLine $_.Exception.Message 200))
        }
    }
    if ($consistency -eq $requested) { $reason = '' }
    Write-Result
}
