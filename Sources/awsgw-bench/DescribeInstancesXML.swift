/// A DescribeInstances answer shaped like EC2's (reservations, instances with network
/// interfaces, block devices, tags, security groups), for the XML parse benchmark.
func describeInstancesXML(instances: Int) -> String {
    var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    out += #"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>8f7724cf-496f-496e-8fe3-example</requestId><reservationSet>"#
    for r in 0..<(instances / 2) {
        out += "<item><reservationId>r-\(String(r, radix: 16))0123456789</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>"
        for k in 0..<2 {
            let n = r * 2 + k
            let id = "i-0\(String(n, radix: 16))abcdef012345"
            out += """
            <item><instanceId>\(id)</instanceId><imageId>ami-0abcdef1234567890</imageId><instanceState><code>16</code><name>running</name></instanceState>\
            <privateDnsName>ip-10-0-\(n % 250)-\(n % 200).ec2.internal</privateDnsName><dnsName>ec2-54-0-\(n % 250)-1.compute-1.amazonaws.com</dnsName>\
            <reason/><keyName>deploy &amp; ops</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/><instanceType>m5.large</instanceType>\
            <launchTime>2026-11-\(10 + n % 18)T08:\(10 + n % 50):00.000Z</launchTime><placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy></placement>\
            <monitoring><state>disabled</state></monitoring><subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId>\
            <privateIpAddress>10.0.\(n % 250).\(n % 200)</privateIpAddress><ipAddress>54.0.\(n % 250).1</ipAddress><sourceDestCheck>true</sourceDestCheck>\
            <groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item><item><groupId>sg-0fedcba9876543210</groupId><groupName>ssh</groupName></item></groupSet>\
            <architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>\
            <blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-0\(n)abcdef0123456</volumeId><status>attached</status><attachTime>2026-11-10T08:10:01.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item>\
            <item><deviceName>/dev/sdf</deviceName><ebs><volumeId>vol-1\(n)abcdef0123456</volumeId><status>attached</status><attachTime>2026-11-10T08:10:01.000Z</attachTime><deleteOnTermination>false</deleteOnTermination></ebs></item></blockDeviceMapping>\
            <virtualizationType>hvm</virtualizationType><clientToken>token-\(n)</clientToken>\
            <tagSet><item><key>Name</key><value>web-\(n)</value></item><item><key>team</key><value>net ops</value></item><item><key>env</key><value>prod &lt;eu&gt;</value></item></tagSet>\
            <hypervisor>xen</hypervisor><networkInterfaceSet><item><networkInterfaceId>eni-0\(n)abcdef012345</networkInterfaceId><subnetId>subnet-0123456789abcdef0</subnetId>\
            <vpcId>vpc-0123456789abcdef0</vpcId><description/><ownerId>123456789012</ownerId><status>in-use</status><macAddress>0a:1b:2c:3d:4e:\(String(n % 256, radix: 16))</macAddress>\
            <privateIpAddress>10.0.\(n % 250).\(n % 200)</privateIpAddress><privateDnsName>ip-10-0-\(n % 250)-\(n % 200).ec2.internal</privateDnsName><sourceDestCheck>true</sourceDestCheck>\
            <groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item></groupSet>\
            <attachment><attachmentId>eni-attach-0\(n)abcdef</attachmentId><deviceIndex>0</deviceIndex><status>attached</status><attachTime>2026-11-10T08:10:00.000Z</attachTime><deleteOnTermination>true</deleteOnTermination><networkCardIndex>0</networkCardIndex></attachment>\
            <association><publicIp>54.0.\(n % 250).1</publicIp><publicDnsName>ec2-54-0-\(n % 250)-1.compute-1.amazonaws.com</publicDnsName><ipOwnerId>amazon</ipOwnerId></association>\
            <privateIpAddressesSet><item><privateIpAddress>10.0.\(n % 250).\(n % 200)</privateIpAddress><privateDnsName>ip-10-0-\(n % 250)-\(n % 200).ec2.internal</privateDnsName><primary>true</primary>\
            <association><publicIp>54.0.\(n % 250).1</publicIp><publicDnsName>ec2-54-0-\(n % 250)-1.compute-1.amazonaws.com</publicDnsName><ipOwnerId>amazon</ipOwnerId></association></item></privateIpAddressesSet>\
            <ipv6AddressesSet/><interfaceType>interface</interfaceType></item></networkInterfaceSet>\
            <ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport><cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>\
            <capacityReservationSpecification><capacityReservationPreference>open</capacityReservationPreference></capacityReservationSpecification>\
            <hibernationOptions><configured>false</configured></hibernationOptions><metadataOptions><state>applied</state><httpTokens>required</httpTokens>\
            <httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint><httpProtocolIpv6>disabled</httpProtocolIpv6><instanceMetadataTags>disabled</instanceMetadataTags></metadataOptions>\
            <enclaveOptions><enabled>false</enabled></enclaveOptions><bootMode>uefi-preferred</bootMode><platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances</usageOperation>\
            <usageOperationUpdateTime>2026-11-10T08:10:00.000Z</usageOperationUpdateTime><privateDnsNameOptions><hostnameType>ip-name</hostnameType><enableResourceNameDnsARecord>false</enableResourceNameDnsARecord>\
            <enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord></privateDnsNameOptions><maintenanceOptions><autoRecovery>default</autoRecovery></maintenanceOptions>\
            <currentInstanceBootMode>legacy-bios</currentInstanceBootMode></item>
            """
        }
        out += "</instancesSet></item>"
    }
    out += "</reservationSet></DescribeInstancesResponse>"
    return out
}
