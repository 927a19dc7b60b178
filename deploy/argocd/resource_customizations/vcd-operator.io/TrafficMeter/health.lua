-- Argo CD health of a vcd-operator object, from its Ready and Synced conditions (the same for
-- every kind; scripts/gen-argocd.ts copies it per kind). Uses only the base library, as Argo CD
-- runs resource.customizations without the standard libraries.
--   Progressing  no status yet, a condition older than metadata.generation, or Ready=False with a
--                reason the operator retries on its own (listed below)
--   Healthy      Ready=True for the current generation
--   Degraded     Ready=False with any other reason: the spec, VCD or credentials must change
local transient = {
  Creating = true, Pending = true, Deleting = true, ConnectionNotReady = true,
  Unreachable = true, ReconcileError = true, EdgeBusy = true, PairsMissing = true,
}
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }
local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local ready = nil
local synced = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif c.type == "Synced" then
    synced = c
  end
end
if ready == nil then
  hs.message = "Waiting for the Ready condition"
  return hs
end
local observed = ready.observedGeneration
if observed == nil then
  observed = obj.status.observedGeneration
end
if observed ~= nil and observed < generation then
  hs.message = "Waiting for the operator to act on generation " .. generation
  return hs
end
local message = ready.message
if message == nil or message == "" then
  message = ready.reason
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message
  if synced ~= nil and synced.status == "False" then
    hs.message = message .. " The last reconcile failed (" .. tostring(synced.reason) .. "): " .. tostring(synced.message)
  end
  return hs
end
if ready.status == "False" and ready.reason ~= nil and not transient[ready.reason] then
  hs.status = "Degraded"
  hs.message = ready.reason .. ": " .. tostring(message)
  return hs
end
hs.message = message
return hs
